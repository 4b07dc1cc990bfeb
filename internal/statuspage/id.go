package statuspage

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// IDPrefix starts every event id derived from a Statuspage notification.
const IDPrefix = "sp_"

// eventID derives a delivery id from the parts of a notification that
// identify the change it reports: "sp_" and the first 32 hex digits of the
// SHA-256 of the length-prefixed parts (so no two lists of parts hash the
// same input). Statuspage sends no delivery id, so a retry of the same
// notification must get the same id (and be answered as a duplicate) while
// any new update must not.
//
// For an incident the parts are page id, "incident", incident id, the newest
// update's id and updated_at, and the incident's status and updated_at: the
// last two change when a postmortem is published or the incident is edited
// without a new update. For a component they are page id, "component",
// component_update id and created_at, component id and new status.
func eventID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(strconv.Itoa(len(p)) + ":" + p + "|"))
	}
	var sum [sha256.Size]byte
	return IDPrefix + hex.EncodeToString(h.Sum(sum[:0])[:16])
}
