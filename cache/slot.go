package cache

// slotCount is the number of hash slots of a Redis Cluster.
const slotCount = 16384

// keySlot is the Redis Cluster hash slot of key, as CLUSTER KEYSLOT computes
// it: CRC16 (XMODEM) modulo 16384 of the key, or of its hash tag, the part
// between the first '{' and the first '}' after it, when that part is not
// empty.
func keySlot(key string) int {
	return int(crc16(hashTag(key)) % slotCount)
}

// hashTag returns the part of key that Redis Cluster hashes.
func hashTag(key string) string {
	for i := 0; i < len(key); i++ {
		if key[i] != '{' {
			continue
		}
		for j := i + 1; j < len(key); j++ {
			if key[j] == '}' {
				if j == i+1 { // "{}": no tag, the whole key is hashed
					return key
				}
				return key[i+1 : j]
			}
		}
		return key // a '{' with no '}' after it
	}
	return key
}

// crc16 is CRC-16/XMODEM (polynomial 0x1021, initial value 0), the checksum
// Redis Cluster uses for key slots.
func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc ^= uint16(s[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// KeySlot is the Redis Cluster hash slot of key (CLUSTER KEYSLOT), for
// the callers that must group keys by slot before a multi-key command or
// script.
func KeySlot(key string) int { return keySlot(key) }
