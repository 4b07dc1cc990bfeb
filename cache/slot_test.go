package cache

import "testing"

func TestCRC16KnownValue(t *testing.T) {
	// The check value of CRC-16/XMODEM, also given in the Redis Cluster spec.
	if got := crc16("123456789"); got != 0x31C3 {
		t.Fatalf("crc16(\"123456789\") = %#04x, want 0x31c3", got)
	}
}

func TestHashTag(t *testing.T) {
	// The examples of the Redis Cluster specification, and edge cases.
	cases := map[string]string{
		"foo":                  "foo",
		"{user1000}.following": "user1000",
		"{user1000}.followers": "user1000",
		"foo{}{bar}":           "foo{}{bar}",
		"foo{{bar}}zap":        "{bar",
		"foo{bar}{zap}":        "bar",
		"{}":                   "{}",
		"{":                    "{",
		"}{":                   "}{",
		"a{b":                  "a{b",
		"a}b{c}":               "c",
		"statuspage:{p0}:x":    "p0",
		"":                     "",
	}
	for key, want := range cases {
		if got := hashTag(key); got != want {
			t.Errorf("hashTag(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestKeySlotKnownValues(t *testing.T) {
	// Values from CLUSTER KEYSLOT on Redis 7.
	cases := map[string]int{
		"foo":                  12182,
		"bar":                  5061,
		"123456789":            12739,
		"{user1000}.following": 3443,
		"user1000":             3443,
		"":                     0,
	}
	for key, want := range cases {
		if got := keySlot(key); got != want {
			t.Errorf("keySlot(%q) = %d, want %d", key, got, want)
		}
	}
}
