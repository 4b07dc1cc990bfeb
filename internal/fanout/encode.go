package fanout

import "encoding/json"

// AppendJSON appends a's JSON (the answer's wire format, exactly as
// encoding/json writes it) to dst. The error is encoding/json's for a value
// it cannot encode (a NaN or infinite duration).
func AppendJSON(dst []byte, a *Answer) ([]byte, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}
