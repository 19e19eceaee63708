package kvapi

// This file is the wire contract of versions (DESIGN.md, "Versions and
// replication"): the version of a stored value, its header, the 409 a stale
// write gets, the hybrid logical clock that stamps versions, and the
// anti-entropy endpoints' answers (/digest, /keys).

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Version is the version of a stored value or of a deletion: a hybrid
// logical clock reading (HLC) and the name of whoever stamped it (Origin: a
// node's name, or "proxy"). On the wire it is "HLC/ORIGIN", the HLC as one
// decimal number: its high 48 bits are Unix milliseconds, its low 16 bits a
// counter. The zero Version means "no version" and is older than every
// other.
type Version struct {
	HLC    uint64
	Origin string
}

// HLC bit layout.
const (
	counterBits = 16
	counterMask = 1<<counterBits - 1
	maxMillis   = 1<<(64-counterBits) - 1
)

// MakeHLC returns the HLC reading of Unix milliseconds ms and counter c.
func MakeHLC(ms int64, c uint16) uint64 {
	if ms < 0 {
		ms = 0
	}
	if ms > maxMillis {
		ms = maxMillis
	}
	return uint64(ms)<<counterBits | uint64(c)
}

// Millis returns the Unix milliseconds of v's HLC.
func (v Version) Millis() int64 { return int64(v.HLC >> counterBits) }

// Counter returns the logical counter of v's HLC.
func (v Version) Counter() uint16 { return uint16(v.HLC & counterMask) }

// Time returns the wall-clock time of v's HLC, to the millisecond.
func (v Version) Time() time.Time { return time.UnixMilli(v.Millis()) }

// IsZero reports whether v is the zero Version, "no version".
func (v Version) IsZero() bool { return v.HLC == 0 && v.Origin == "" }

// Compare returns -1, 0 or +1 as v is older than, the same as, or newer
// than w: by HLC, then by Origin in byte order.
func (v Version) Compare(w Version) int {
	switch {
	case v.HLC < w.HLC:
		return -1
	case v.HLC > w.HLC:
		return 1
	}
	return strings.Compare(v.Origin, w.Origin)
}

// String returns v as the wire has it, "HLC/ORIGIN"; the zero Version is "".
func (v Version) String() string {
	if v.IsZero() {
		return ""
	}
	b := make([]byte, 0, 21+len(v.Origin))
	return string(v.append(b))
}

func (v Version) append(b []byte) []byte {
	b = strconv.AppendUint(b, v.HLC, 10)
	b = append(b, '/')
	return append(b, v.Origin...)
}

// AppendText appends v's wire form to b (encoding.TextAppender).
func (v Version) AppendText(b []byte) ([]byte, error) {
	if v.IsZero() {
		return b, nil
	}
	return v.append(b), nil
}

// MarshalText returns v's wire form, so that JSON carries a version as
// the string "HLC/ORIGIN".
func (v Version) MarshalText() ([]byte, error) { return v.AppendText(nil) }

// UnmarshalText parses a version's wire form; an empty text is the zero
// Version.
func (v *Version) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*v = Version{}
		return nil
	}
	p, err := ParseVersion(string(b))
	if err != nil {
		return err
	}
	*v = p
	return nil
}

// ErrBadVersion is wrapped by ParseVersion's refusals.
var ErrBadVersion = errors.New("bad version")

// ParseVersion parses "HLC/ORIGIN": HLC a decimal number from 1 to
// 2^64-1 (leading zeros are allowed and dropped), ORIGIN a node name (see
// CheckName) or "proxy".
func ParseVersion(s string) (Version, error) {
	hlc, origin, ok := strings.Cut(s, "/")
	if !ok {
		return Version{}, fmt.Errorf("%w: %q: want HLC/ORIGIN, like 112233445566778899/kv1", ErrBadVersion, Truncate(s, 60))
	}
	if hlc == "" || len(hlc) > 40 || !allDigits(hlc) {
		return Version{}, fmt.Errorf("%w: %q: the part before / must be a decimal number (the HLC)", ErrBadVersion, Truncate(s, 60))
	}
	n, err := strconv.ParseUint(hlc, 10, 64)
	if err != nil {
		return Version{}, fmt.Errorf("%w: %q: the HLC does not fit in 64 bits", ErrBadVersion, Truncate(s, 60))
	}
	if n == 0 {
		return Version{}, fmt.Errorf("%w: %q: the HLC must be above 0", ErrBadVersion, Truncate(s, 60))
	}
	if err := CheckName(origin); err != nil {
		return Version{}, fmt.Errorf("%w: %q: the part after / must be a node name or \"proxy\" (%v)", ErrBadVersion, Truncate(s, 60), err)
	}
	return Version{HLC: n, Origin: origin}, nil
}

// allDigits reports whether s is all ASCII digits.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ParseVersionHeader returns the version a request carries in
// VersionHeader: the zero Version when it carries none (or an empty one),
// a 400 when the header is malformed or repeated.
func ParseVersionHeader(h http.Header) (Version, *Error) {
	vals := h.Values(VersionHeader)
	if len(vals) == 0 {
		return Version{}, nil
	}
	return parseVersionValues(len(vals), vals[0])
}

// parseVersionValues parses a request's n VersionHeader values, the first
// of which is first.
func parseVersionValues(n int, first string) (Version, *Error) {
	switch {
	case n == 1 && strings.TrimSpace(first) == "":
		return Version{}, nil
	case n > 1:
		return Version{}, Errorf(http.StatusBadRequest, "Send one "+VersionHeader+" header, not "+strconv.Itoa(n)+".")
	}
	v, err := ParseVersion(strings.TrimSpace(first))
	if err != nil {
		return Version{}, Errorf(http.StatusBadRequest, "The "+VersionHeader+" header is not a version: "+strings.TrimPrefix(err.Error(), ErrBadVersion.Error()+": ")+".")
	}
	return v, nil
}

// SetVersionHeader sets VersionHeader to v on an answer; the zero Version
// sets nothing.
func SetVersionHeader(h http.Header, v Version) {
	if !v.IsZero() {
		h[VersionHeader] = []string{v.String()}
	}
}

// Messages of version conflicts.
const (
	MsgNewerStored = "A newer version is stored."
	MsgSameVersion = "Another value is stored under the same version."
)

// VersionConflict is the 409 answer to a put or delete whose version lost
// to the stored one: nothing changed. Its body is {"error": MSG, "version":
// V}, plus "deleted": true when the stored version is a deletion (a
// tombstone); WriteConflict also sets VersionHeader to V.
type VersionConflict struct {
	Stored  Version // the version the node keeps
	Deleted bool    // Stored is a tombstone: the key was deleted at Stored
	Same    bool    // the write carried Stored itself, with another value
}

// Stale is the 409 for a write older than the stored version (or a
// tombstone).
func Stale(stored Version, deleted bool) *VersionConflict {
	return &VersionConflict{Stored: stored, Deleted: deleted}
}

// SameVersion is the 409 for a put that carries the stored version with
// another value: one version names one value.
func SameVersion(stored Version) *VersionConflict {
	return &VersionConflict{Stored: stored, Same: true}
}

// Error returns the conflict's message.
func (c *VersionConflict) Error() string {
	if c.Same {
		return MsgSameVersion
	}
	return MsgNewerStored
}

// JSON returns the conflict's body.
func (c *VersionConflict) JSON() []byte {
	body := struct {
		Error   string  `json:"error"`
		Version Version `json:"version"`
		Deleted bool    `json:"deleted,omitempty"`
	}{c.Error(), c.Stored, c.Deleted}
	b, _ := json.Marshal(body)
	return append(b, '\n')
}

// WriteConflict writes c as a 409 with VersionHeader set to the stored
// version.
func WriteConflict(w http.ResponseWriter, c *VersionConflict) {
	SetVersionHeader(w.Header(), c.Stored)
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Cache-Control"] = noStore
	h["X-Content-Type-Options"] = nosniff
	w.WriteHeader(http.StatusConflict)
	w.Write(c.JSON())
}

// MaxSkew is how far ahead of a clock's wall time a version it observes may
// be. A further one is refused (ErrFutureVersion): a single bad or hostile
// version would otherwise drag every clock that sees it into the future, and
// a version near 2^64 would leave no newer one to stamp.
const MaxSkew = time.Hour

// ErrFutureVersion is wrapped by Clock.Observe's refusal of a version more
// than MaxSkew ahead of the clock's wall time.
var ErrFutureVersion = errors.New("the version is too far in the future")

// Clock is a hybrid logical clock: each Now is strictly greater than every
// reading it returned before and every version it observed, and follows
// the wall clock's milliseconds when the wall clock is ahead. When the wall
// clock stands still or goes back, the 16-bit counter counts on; when the
// counter overflows it carries into the milliseconds, so the clock runs a
// little ahead of the wall until the wall catches up. A Clock is safe for
// concurrent use.
type Clock struct {
	wall func() time.Time

	mu   sync.Mutex
	last uint64
}

// NewClock returns a clock that reads wall time from wall (nil: time.Now).
func NewClock(wall func() time.Time) *Clock {
	if wall == nil {
		wall = time.Now
	}
	return &Clock{wall: wall}
}

// Now returns a new reading, strictly greater than every earlier one and
// every observed one. It saturates at 2^64-1, which a clock reaches only
// after Advance past every reachable time.
func (c *Clock) Now() uint64 {
	pt := MakeHLC(c.wall().UnixMilli(), 0)
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case pt > c.last:
		c.last = pt
	case c.last < 1<<64-1:
		c.last++
	}
	return c.last
}

// Observe moves the clock past hlc, a reading received from another clock,
// so that every later Now is greater. It refuses, changing nothing, a
// reading more than MaxSkew ahead of the wall clock.
func (c *Clock) Observe(hlc uint64) error {
	if ahead := int64(hlc>>counterBits) - c.wall().UnixMilli(); ahead > MaxSkew.Milliseconds() {
		return fmt.Errorf("%w: it is %s ahead of this clock, and at most %v is accepted; check the clock of the machine that stamped it", ErrFutureVersion, aheadText(ahead), MaxSkew)
	}
	c.Advance(hlc)
	return nil
}

// aheadText says how far ahead ms milliseconds is, for messages.
func aheadText(ms int64) string {
	if ms >= 100*365*24*time.Hour.Milliseconds() {
		return "more than a century"
	}
	return (time.Duration(ms) * time.Millisecond).Round(time.Second).String()
}

// Advance moves the clock past hlc without Observe's check: for readings
// from a trusted source, such as a node's own data file.
func (c *Clock) Advance(hlc uint64) {
	c.mu.Lock()
	if hlc > c.last {
		c.last = hlc
	}
	c.mu.Unlock()
}

// Last returns the latest reading the clock returned or observed.
func (c *Clock) Last() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// Anti-entropy endpoints on a node.
const (
	// PathDigest answers a Digest: GET /digest[?buckets=N].
	PathDigest = "/digest"
	// PathKeys answers a KeyList: GET /keys?bucket=B[&buckets=N][&after=K][&limit=L].
	PathKeys = "/keys"
)

// Bucket counts of /digest and /keys.
const (
	DefaultBuckets = 256  // when a request names none
	MaxBuckets     = 4096 // the most a request may ask for
	MaxKeysPage    = 10000
)

// Digest is a node's answer to GET /digest: per-bucket hashes of its keys
// at their versions, live and deleted. Two nodes holding the same keys at
// the same versions (and the same tombstones) answer the same hashes.
//
// A key's bucket is BucketOf(key, Buckets). A bucket's hash is the
// lane-wise sum of EntryHash over its entries: each hash is read as four
// big-endian uint64 lanes, each lane is summed modulo 2^64, and the four
// sums are written back big-endian, 32 bytes in lower-case hex (64 zeros
// for an empty bucket). A sum does not depend on the order of the entries
// and, unlike XOR, a repeated entry does not cancel out. In python3:
//
//	lanes = lambda h: struct.unpack(">4Q", h)
//	bucket_hash = struct.pack(">4Q", *(sum(col) % 2**64 for col in zip(*map(lanes, entry_hashes)))).hex()
type Digest struct {
	Buckets int      `json:"buckets"`
	Hashes  []string `json:"hashes"`
}

// KeyList is a node's answer to GET /keys: the entries of one bucket,
// sorted by key, at most MaxKeysPage (or the request's limit) after the key
// "after"; More says whether more follow (ask again with after set to the
// last key).
type KeyList struct {
	Buckets int          `json:"buckets"`
	Bucket  int          `json:"bucket"`
	Keys    []KeyVersion `json:"keys"`
	More    bool         `json:"more"`
}

// KeyVersion is one key of a KeyList: its version, and whether it is a
// tombstone (deleted at that version).
type KeyVersion struct {
	Key     string  `json:"key"`
	Version Version `json:"version"`
	Deleted bool    `json:"deleted"`
}

// CheckBuckets checks a bucket count: a power of two from 1 to MaxBuckets.
// Powers of two let a node keep its digest up to date on every write, at
// MaxBuckets, and fold it to any smaller count.
func CheckBuckets(n int) error {
	if n < 1 || n > MaxBuckets || n&(n-1) != 0 {
		return fmt.Errorf("buckets must be a power of two from 1 to %d, like %d", MaxBuckets, DefaultBuckets)
	}
	return nil
}

// KeyHash returns h(key), the first 8 bytes of SHA-256(key) as a
// big-endian number, as placement's formulas use it.
func KeyHash(key string) uint64 {
	sum := sha256.Sum256([]byte(key))
	return binary.BigEndian.Uint64(sum[:8])
}

// BucketOf returns key's bucket among n: KeyHash(key) mod n. In python3:
// int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % n.
func BucketOf(key string, n int) int { return int(KeyHash(key) % uint64(n)) }

// DeletedSuffix ends the hashed text of a tombstone in EntryHash.
const DeletedSuffix = "@deleted"

// EntryHash returns the hash one entry adds to its bucket's digest:
// SHA-256(key + "@" + version) for a live key, and SHA-256(key + "@" +
// version + "@deleted") for a tombstone, so that a deletion and a value at
// the same version differ.
func EntryHash(key string, v Version, deleted bool) [32]byte {
	var arr [128]byte
	b := append(arr[:0], key...)
	b = append(b, '@')
	b = v.append(b)
	if deleted {
		b = append(b, DeletedSuffix...)
	}
	return sha256.Sum256(b)
}
