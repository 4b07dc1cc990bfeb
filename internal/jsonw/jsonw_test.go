package jsonw

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func marshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestStringIsEncodingJSONs: every byte that needs escaping, at several
// positions, and multi-byte runes, come out as encoding/json writes them.
func TestStringIsEncodingJSONs(t *testing.T) {
	specials := []string{"\x00", "\x1f", "\t", "\n", "\r", "\b", "\f", `"`, `\`, "<", ">", "&", "\x7f", "é", "日", "\u2028", "\u2029", "\xff", "\xe2\x80"}
	for _, sp := range specials {
		for pre := range 17 {
			for _, post := range []int{0, 1, 7, 8, 9} {
				s := strings.Repeat("a", pre) + sp + strings.Repeat("z", post)
				if got, want := string(String(nil, s)), marshal(t, s); got != want {
					t.Errorf("String(%q) = %s, want %s", s, got, want)
				}
			}
		}
	}
	for _, s := range []string{"", "https://p1.status.example.com/incidents/inc_1?x=1", strings.Repeat("0123456789", 30)} {
		if got, want := string(String([]byte("prefix"), s)), "prefix"+marshal(t, s); got != want {
			t.Errorf("String(%q) = %s, want %s", s, got, want)
		}
	}
}

func TestFloatIsEncodingJSONs(t *testing.T) {
	for _, f := range []float64{0, math.Copysign(0, -1), 1, -1.5, 12.345, 1e-6, 1e-7, 123456789.123, 1e20, 1e21, 1e-300, math.MaxFloat64, math.SmallestNonzeroFloat64} {
		if got, want := string(Float(nil, f)), marshal(t, f); got != want {
			t.Errorf("Float(%v) = %s, want %s", f, got, want)
		}
	}
}

func FuzzString(f *testing.F) {
	f.Add("https://p1.status.example.com/")
	f.Add("<\u2028\xff>\"\\&")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(String(nil, s)), marshal(t, s); got != want {
			t.Errorf("String(%q) = %s, want %s", s, got, want)
		}
	})
}

func BenchmarkStringURL(b *testing.B) {
	s := "https://p1.status.example.com/incidents/inc_01HZX5Y2K3/updates?page=1"
	buf := make([]byte, 0, 256)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		buf = String(buf[:0], s)
	}
}
