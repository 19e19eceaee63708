package proxy

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/kvclass/kvclass/placement"
	"github.com/kvclass/kvclass/registry"
)

// State is what the proxy keeps across restarts in its state file: the
// class code (shared with the class; admits nodes), the admin token (the
// instructor's alone; authorizes /admin actions), and what the class set up
// live: the mode, the placement, the write quorum, the lock, and every
// joined node with its place and secret (down nodes included, until a kick
// or the expiry). A restarted proxy places every key where it did before.
type State struct {
	ClassCode   string             `json:"class_code"`
	AdminToken  string             `json:"admin_token"`
	Mode        Mode               `json:"mode,omitempty"`
	Placement   *placement.Config  `json:"placement,omitempty"`
	WriteQuorum int                `json:"write_quorum,omitempty"`
	Replication *ReplicationConfig `json:"replication,omitempty"`
	ReplicasSet bool               `json:"replicas_set,omitempty"`
	Locked      bool               `json:"locked,omitempty"`
	Nodes       []registry.Saved   `json:"nodes,omitempty"`
}

// StateFile is the proxy's state file: its path and the State it holds.
// Its methods are safe for concurrent use.
type StateFile struct {
	path string

	mu    sync.Mutex
	state State
}

// Path returns where the file is.
func (f *StateFile) Path() string { return f.path }

// State returns a copy of what the file holds.
func (f *StateFile) State() State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state.clone()
}

// Update applies change to the state and writes the file when anything
// changed. The write is atomic: the file holds the old state or the new.
func (f *StateFile) Update(change func(*State)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	next := f.state.clone()
	change(&next)
	if reflect.DeepEqual(next, f.state) {
		return nil
	}
	if err := writeState(f.path, next); err != nil {
		return err
	}
	f.state = next
	return nil
}

func (s State) clone() State {
	c := s
	if s.Placement != nil {
		p := *s.Placement
		c.Placement = &p
	}
	if s.Replication != nil {
		r := *s.Replication
		c.Replication = &r
	}
	c.Nodes = slices.Clone(s.Nodes)
	return c
}

// Bounds of values given by flags.
const (
	minClassCodeLen  = 4
	maxClassCodeLen  = 64
	minAdminTokenLen = 16
	maxAdminTokenLen = 256
	maxStateFileSize = 1 << 20
)

// DefaultStatePath is where the proxy keeps its secrets by default:
// os.UserConfigDir()/kvclass/proxy-state.json.
func DefaultStatePath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no user config directory for the state file (pass --state FILE): %w", err)
	}
	return filepath.Join(dir, "kvclass", "proxy-state.json"), nil
}

// LoadState reads the state file at path if it exists, applies non-empty
// flag values (classCode, adminToken) over it, generates what is still
// missing, and saves the result when it differs from the file.
//
// The file is written atomically with mode 0600 in a directory created with
// mode 0700. A file that other users may read or write is refused, not fixed:
// its admin token may have leaked, so the instructor should delete the file
// (new secrets are made) or chmod it and keep them knowingly. A file that is
// not valid JSON is refused rather than overwritten.
func LoadState(path, classCode, adminToken string) (*StateFile, error) {
	if err := checkFlagValue("class code", classCode, minClassCodeLen, maxClassCodeLen); err != nil {
		return nil, err
	}
	if err := checkFlagValue("admin token", adminToken, minAdminTokenLen, maxAdminTokenLen); err != nil {
		return nil, err
	}
	saved, err := readState(path)
	if err != nil {
		return nil, err
	}
	s := saved.clone()
	if classCode != "" {
		s.ClassCode = classCode
	}
	if adminToken != "" {
		s.AdminToken = adminToken
	}
	if s.ClassCode == "" {
		s.ClassCode = NewClassCode()
	}
	if s.AdminToken == "" {
		s.AdminToken = newAdminToken()
	}
	if !reflect.DeepEqual(s, saved) {
		if err := writeState(path, s); err != nil {
			return nil, err
		}
	}
	return &StateFile{path: path, state: s}, nil
}

// checkFlagValue checks a secret given on the command line; empty means not
// given.
func checkFlagValue(what, v string, minLen, maxLen int) error {
	if v == "" {
		return nil
	}
	if len(v) < minLen || len(v) > maxLen {
		return fmt.Errorf("the %s must be %d to %d characters long", what, minLen, maxLen)
	}
	for _, c := range v {
		if c <= ' ' || c > '~' {
			return fmt.Errorf("the %s may hold only printable ASCII without spaces", what)
		}
	}
	return nil
}

// readState reads the state file; a missing file is an empty state.
func readState(path string) (State, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return State{}, nil
	}
	if err != nil {
		return State{}, fmt.Errorf("state file: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return State{}, fmt.Errorf("state file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return State{}, fmt.Errorf("state file %s is not a regular file", path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return State{}, fmt.Errorf("state file %s is open to other users (mode %04o): its admin token may have leaked; delete the file to make new secrets, or chmod 600 it to keep them", path, perm)
	}
	if info.Size() > maxStateFileSize {
		return State{}, fmt.Errorf("state file %s is larger than %d bytes; delete it to make new secrets", path, maxStateFileSize)
	}
	var s State
	if err := json.NewDecoder(f).Decode(&s); err != nil {
		return State{}, fmt.Errorf("state file %s is not valid JSON (%v); delete it to make new secrets", path, err)
	}
	if err := checkFlagValue("class code in the state file", s.ClassCode, 1, maxClassCodeLen); err != nil {
		return State{}, fmt.Errorf("state file %s: %w", path, err)
	}
	if err := checkFlagValue("admin token in the state file", s.AdminToken, 1, maxAdminTokenLen); err != nil {
		return State{}, fmt.Errorf("state file %s: %w", path, err)
	}
	if s.Mode != "" {
		if _, err := ParseMode(string(s.Mode)); err != nil {
			return State{}, fmt.Errorf("state file %s: %w", path, err)
		}
	}
	if s.Placement != nil {
		if err := s.Placement.Validate(); err != nil {
			return State{}, fmt.Errorf("state file %s: %w", path, err)
		}
	}
	if s.WriteQuorum < 0 {
		return State{}, fmt.Errorf("state file %s: write_quorum is negative", path)
	}
	return s, nil
}

// writeState replaces the state file atomically: a 0600 temporary file in
// the same directory, synced, then renamed over the old one.
func writeState(path string, s State) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("state file directory: %w", err)
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".proxy-state-*.tmp")
	if err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		tmp.Close()
		return fmt.Errorf("state file: %w", err)
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("state file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("state file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	return nil
}

// NewClassCode returns a fresh class code that is easy to say aloud and type:
// adjective-noun-number, such as "amber-otter-42", from crypto/rand.
func NewClassCode() string {
	adjectives, nouns := strings.Fields(codeAdjectives), strings.Fields(codeNouns)
	return strings.Join([]string{
		adjectives[randIndex(len(adjectives))],
		nouns[randIndex(len(nouns))],
		fmt.Sprint(10 + randIndex(90)),
	}, "-")
}

// newAdminToken returns 32 random bytes, base64url.
func newAdminToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// randIndex returns a uniform random index below n from crypto/rand.
func randIndex(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic("crypto/rand failed: " + err.Error()) // crypto/rand does not fail on supported systems
	}
	return int(v.Int64())
}
