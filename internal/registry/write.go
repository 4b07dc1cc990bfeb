package registry

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/edgepurge/edgepurge/cache"
)

// fieldVersion counts the writes of an entry through Apply; an entry the
// core app wrote directly has none (version 0).
const fieldVersion = "version"

// Entry is a page entry as stored, with its ETag.
type Entry struct {
	Page
	// ETag identifies this state of the entry: its version and a digest of
	// its hosts and zone as stored, so that a write made without Apply (by
	// the core app, directly) changes it too. Empty when no entry exists.
	ETag string
	// Version is the number of changes made through Apply.
	Version int64
	// RawHosts and RawZone are the fields as stored, before normalizing.
	RawHosts, RawZone string
}

// Change is one write of Apply: Page's hosts and zone, or, with Delete,
// the removal of the entry.
type Change struct {
	Page   Page
	Delete bool
	// IfMatch, when set, is the ETag the entry must have for the change to
	// be made: "*" means any existing entry.
	IfMatch string
}

// Results of a Change.
const (
	ResultCreated   = "created"
	ResultUpdated   = "updated"
	ResultUnchanged = "unchanged" // the entry already was so: nothing written
	ResultDeleted   = "deleted"
	ResultAbsent    = "absent" // a delete of an entry that did not exist
)

// Outcome is what one Change did.
type Outcome struct {
	ID     string
	Result string
	// ETag is the entry's ETag after the change ("" when deleted).
	ETag string
	// Before is the entry as it was (Hosts nil when there was none).
	Before Page
	// prev is the entry's hosts, zone, version and options fields as they
	// were, to undo the change.
	prev [4]string
}

// ConflictError is a Change whose IfMatch the entry did not match: nothing
// of the Apply was written.
type ConflictError struct {
	// Index is the change's index in the Apply.
	Index int
	ID    string
	// ETag is the entry's current ETag ("" when none exists).
	ETag string
}

// Error implements error.
func (e *ConflictError) Error() string {
	if e.ETag == "" {
		return fmt.Sprintf("page %q: no entry exists, so If-Match cannot match", e.ID)
	}
	return fmt.Sprintf("page %q has changed: its ETag is now %q; read it again and retry", e.ID, e.ETag)
}

// applyScript checks every key's expected ETag, then (ARGV[1] "write")
// writes every change, in one script: atomic on one Redis node. ARGV
// holds five values per key: the expected ETag ("" none, "*" any
// existing), the operation (set, del), the hosts, the zone and the
// options. The answer is {"conflict", index, current ETag} or {"ok", then
// per key: result, new ETag, previous hosts, zone, version and options}.
// The ETag is computed here, from the stored fields, so a direct write by
// the core app changes it.
var applyScript = redis.NewScript(etagLua + `
local cur = {}
for i, key in ipairs(KEYS) do
  local f = redis.call("HMGET", key, "hosts", "zone", "version", "options")
  cur[i] = f
  local want = ARGV[2 + (i - 1) * 5]
  local have = etag(f)
  if want == "*" then
    if have == "" then return {"conflict", i, ""} end
  elseif want ~= "" and want ~= have then
    return {"conflict", i, have}
  end
end
if ARGV[1] ~= "write" then return {"ok"} end
local out = {"ok"}
for i, key in ipairs(KEYS) do
  local base = 2 + (i - 1) * 5
  local op, hosts, zone, options = ARGV[base + 1], ARGV[base + 2], ARGV[base + 3], ARGV[base + 4]
  local f = cur[i]
  local result
  if op == "del" then
    if f[1] then
      redis.call("HDEL", key, "hosts", "zone", "version", "options")
      result = "deleted"
    else
      result = "absent"
    end
  elseif f[1] == hosts and (f[2] or "") == zone and (f[4] or "") == options then
    result = "unchanged"
  else
    local v = tonumber(f[3] or "0") or 0
    redis.call("HSET", key, "hosts", hosts, "version", tostring(math.floor(v) + 1))
    if zone == "" then redis.call("HDEL", key, "zone") else redis.call("HSET", key, "zone", zone) end
    if options == "" then redis.call("HDEL", key, "options") else redis.call("HSET", key, "options", options) end
    if f[1] then result = "updated" else result = "created" end
  end
  table.insert(out, result)
  table.insert(out, etag(redis.call("HMGET", key, "hosts", "zone", "version", "options")))
  table.insert(out, f[1] or "")
  table.insert(out, f[2] or "")
  table.insert(out, f[3] or "")
  table.insert(out, f[4] or "")
end
return out
`)

// etagLua is ETag in Lua, over an HMGET of hosts, zone, version, options.
const etagLua = `
local function etag(f)
  if not f[1] then return "" end
  return (f[3] or "0") .. "-" .. string.sub(redis.sha1hex(f[1] .. "\n" .. (f[2] or "") .. "\n" .. (f[4] or "")), 1, 12)
end
`

// undoScript puts entries back as they were before an Apply, each only if
// it still has the ETag that Apply gave it (a later write is kept). ARGV
// holds five values per key: that ETag, the previous hosts ("" none),
// zone, version and options.
var undoScript = redis.NewScript(etagLua + `
for i, key in ipairs(KEYS) do
  local base = (i - 1) * 5
  if etag(redis.call("HMGET", key, "hosts", "zone", "version", "options")) == ARGV[base + 1] then
    if ARGV[base + 2] == "" then
      redis.call("HDEL", key, "hosts", "zone", "version", "options")
    else
      redis.call("HSET", key, "hosts", ARGV[base + 2])
      local fields = {"zone", "version", "options"}
      for j, name in ipairs(fields) do
        local v = ARGV[base + 2 + j]
        if v == "" then redis.call("HDEL", key, name) else redis.call("HSET", key, name, v) end
      end
    end
  end
end
return "ok"
`)

// Get reads pageID's entry straight from Redis (no cache). found is false
// when no entry exists (no hosts field); an entry whose hosts normalize to
// none is found, with no Hosts, so that it can be shown and fixed.
func (r *Registry) Get(ctx context.Context, pageID string) (Entry, bool, error) {
	vals, err := r.client.HMGet(ctx, r.key(pageID), fieldHosts, fieldZone, fieldVersion, fieldOptions).Result()
	if err != nil {
		return Entry{}, false, fmt.Errorf("read page %q: %w", pageID, err)
	}
	e, found := entryOf(pageID, vals)
	return e, found, nil
}

// entryOf makes the Entry of an HMGET of hosts, zone, version and options.
func entryOf(pageID string, vals []any) (Entry, bool) {
	rawHosts, ok := vals[0].(string)
	if !ok {
		return Entry{}, false
	}
	rawZone := stringOf(vals[1])
	version := stringOf(vals[2])
	e := Entry{
		Page:     Page{ID: pageID, Hosts: NormalizeHosts(strings.Split(rawHosts, ",")), Zone: strings.TrimSpace(rawZone), Options: stringOf(vals[3])},
		RawHosts: rawHosts, RawZone: rawZone,
		ETag: ETag(vals[0], vals[1], vals[2], vals[3]),
	}
	e.Version, _ = strconv.ParseInt(version, 10, 64)
	return e, true
}

// Apply makes every change or none (see ConflictError). Changes must be
// complete (an ID; hosts unless Delete) and name each page once. On one
// Redis node, or when every key is in one Cluster slot, the check and the
// writes are one script: no reader sees part of them. On a Cluster whose
// slots the keys span, the script runs once per slot: first every slot's
// check, then every slot's writes, undoing the slots already written if a
// later one fails (a writer that changed an entry in between, or Redis
// failing); a reader may then see part of the changes for that moment.
func (r *Registry) Apply(ctx context.Context, changes []Change) ([]Outcome, error) {
	groups := r.bySlot(changes)
	if len(groups) > 1 {
		// Every slot's check first, so a conflict known now writes nothing.
		for _, g := range groups {
			if _, err := r.run(ctx, changes, g, "check"); err != nil {
				return nil, err
			}
		}
	}
	out := make([]Outcome, len(changes))
	var done [][]int
	for _, g := range groups {
		res, err := r.run(ctx, changes, g, "write")
		if err != nil {
			if uerr := r.undo(ctx, changes, out, done); uerr != nil {
				err = errors.Join(err, uerr)
			}
			return nil, err
		}
		for j, i := range g {
			out[i] = res[j]
		}
		done = append(done, g)
	}
	return out, nil
}

// bySlot groups the indexes of changes by Cluster slot; one group on any
// other client.
func (r *Registry) bySlot(changes []Change) [][]int {
	all := make([]int, len(changes))
	for i := range changes {
		all[i] = i
	}
	if _, ok := r.client.(*redis.ClusterClient); !ok {
		return [][]int{all}
	}
	slots := map[int][]int{}
	var order []int
	for _, i := range all {
		s := cache.KeySlot(r.key(changes[i].Page.ID))
		if _, ok := slots[s]; !ok {
			order = append(order, s)
		}
		slots[s] = append(slots[s], i)
	}
	out := make([][]int, 0, len(order))
	for _, s := range order {
		out = append(out, slots[s])
	}
	return out
}

// run runs applyScript in mode over the changes of indexes idx.
func (r *Registry) run(ctx context.Context, changes []Change, idx []int, mode string) ([]Outcome, error) {
	keys := make([]string, len(idx))
	args := make([]any, 0, 1+5*len(idx))
	args = append(args, mode)
	for j, i := range idx {
		c := changes[i]
		keys[j] = r.key(c.Page.ID)
		op, hosts, zone, options := "set", strings.Join(NormalizeHosts(c.Page.Hosts), ","), strings.TrimSpace(c.Page.Zone), c.Page.Options
		if c.Delete {
			op, hosts, zone, options = "del", "", "", ""
		}
		args = append(args, c.IfMatch, op, hosts, zone, options)
	}
	vals, err := applyScript.Run(ctx, r.client, keys, args...).Slice()
	if err != nil {
		return nil, fmt.Errorf("write pages: %w", err)
	}
	if len(vals) == 3 && vals[0] == "conflict" {
		n, _ := vals[1].(int64)
		i := idx[n-1]
		return nil, &ConflictError{Index: i, ID: changes[i].Page.ID, ETag: stringOf(vals[2])}
	}
	if mode != "write" {
		return nil, nil
	}
	if len(vals) != 1+6*len(idx) {
		return nil, fmt.Errorf("write pages: unexpected answer of %d values", len(vals))
	}
	out := make([]Outcome, len(idx))
	for j, i := range idx {
		v := vals[1+6*j:]
		o := Outcome{ID: changes[i].Page.ID, Result: stringOf(v[0]), ETag: stringOf(v[1])}
		if raw := stringOf(v[2]); raw != "" {
			o.Before = Page{ID: o.ID, Hosts: NormalizeHosts(strings.Split(raw, ",")), Zone: strings.TrimSpace(stringOf(v[3])), Options: stringOf(v[5])}
		}
		o.Before.ID = o.ID
		o.prev = [4]string{stringOf(v[2]), stringOf(v[3]), stringOf(v[4]), stringOf(v[5])}
		out[j] = o
	}
	return out, nil
}

// undo puts back the entries of the groups done, as out says they were.
// It runs on a context of its own: the request's may be what ended.
func (r *Registry) undo(ctx context.Context, changes []Change, out []Outcome, done [][]int) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), undoTimeout)
	defer cancel()
	var errs []error
	for _, g := range done {
		var keys []string
		var args []any
		for _, i := range g {
			o := out[i]
			if o.Result == ResultUnchanged || o.Result == ResultAbsent {
				continue
			}
			keys = append(keys, r.key(changes[i].Page.ID))
			args = append(args, o.ETag, o.prev[0], o.prev[1], o.prev[2], o.prev[3])
		}
		if len(keys) == 0 {
			continue
		}
		if err := undoScript.Run(ctx, r.client, keys, args...).Err(); err != nil {
			errs = append(errs, fmt.Errorf("undo the pages written (%s): %w", strings.Join(keys, ", "), err))
		}
	}
	return errors.Join(errs...)
}

// undoTimeout bounds the undoing of a partly applied Apply.
const undoTimeout = 5 * time.Second

// ETag is the ETag of an entry stored with these fields (version nil: none
// stored); "" when rawHosts is nil (no entry). applyScript computes the
// same.
func ETag(rawHosts, rawZone, version, options any) string {
	h, ok := rawHosts.(string)
	if !ok {
		return ""
	}
	v, ok := version.(string)
	if !ok {
		v = "0"
	}
	sum := sha1.Sum([]byte(h + "\n" + stringOf(rawZone) + "\n" + stringOf(options)))
	return v + "-" + hex.EncodeToString(sum[:])[:12]
}
