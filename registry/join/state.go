package join

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/kvclass/kvclass/kvapi"
)

// This file keeps a node's secret on its own machine: one small JSON file
// per proxy and node name in a directory of its own, readable by its owner
// only. The file also names the process that runs under that name, so a
// second process started with the same name is told which one holds it.

// DefaultStateDir is where a node keeps its secrets by default:
// os.UserConfigDir()/kvclass/nodes.
func DefaultStateDir() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no user config directory for the node's state: %w", err)
	}
	return filepath.Join(dir, "kvclass", "nodes"), nil
}

// stateEntry is one node's secret with one proxy.
type stateEntry struct {
	Proxy  string    `json:"proxy"`
	Name   string    `json:"name"`
	Secret string    `json:"secret,omitempty"`
	PID    int       `json:"pid,omitempty"` // the process running as this node, 0 when none
	Since  time.Time `json:"since,omitempty"`
}

// statePath is this node's file: NAME-HASH.json, HASH naming the proxy.
func (s *Session) statePath() string {
	sum := sha256.Sum256([]byte(s.proxyKey()))
	return filepath.Join(s.opts.StateDir, s.opts.Name+"-"+hex.EncodeToString(sum[:6])+".json")
}

// proxyKey names a proxy: its URL without a trailing slash.
func (s *Session) proxyKey() string { return strings.TrimRight(s.opts.Proxy, "/") }

// claimState loads this node's secret (unless Options.Secret gave one) and
// marks the entry as held by this process; a live process already holding it
// is an error that names it. A state directory that cannot be read or
// written (a read-only container, a full disk) is not: the node is warned
// and joins without keeping its secret, as with an empty StateDir.
func (s *Session) claimState() error {
	if s.opts.StateDir == "" {
		return nil
	}
	var held error
	err := s.editState(func(e *stateEntry) error {
		if e.PID != 0 && e.PID != os.Getpid() && processAlive(e.PID) {
			held = fmt.Errorf("another kvclass node named %q runs on this machine (process %d, started %s) and holds this name in the class; stop it, or choose another name with -n NAME",
				s.opts.Name, e.PID, e.Since.Local().Format("15:04:05"))
			return held
		}
		if s.secret == "" && kvapi.ValidSecret(e.Secret) {
			s.secret = e.Secret
		}
		e.PID, e.Since = os.Getpid(), time.Now()
		return nil
	})
	switch {
	case err == nil:
		return nil
	case held != nil:
		return held
	}
	s.log.Warn("cannot keep the node's secret, joining without it: after a restart this node waits until the proxy marks its old session down; give a writable directory with --state DIR to avoid that",
		"dir", s.opts.StateDir, "err", err)
	s.opts.StateDir = ""
	return nil
}

// saveState records the secret the proxy admitted this node with.
func (s *Session) saveState() {
	if s.opts.StateDir == "" {
		return
	}
	secret := s.Secret()
	if err := s.editState(func(e *stateEntry) error {
		e.Secret, e.PID = secret, os.Getpid()
		if e.Since.IsZero() {
			e.Since = time.Now()
		}
		return nil
	}); err != nil {
		s.log.Warn("cannot save the node's secret; after a restart it must wait to be marked down or take another name", "err", err)
	}
}

// releaseState marks the entry as no longer held by a process, keeping its
// secret for the next start.
func (s *Session) releaseState() {
	if s.opts.StateDir == "" {
		return
	}
	if err := s.editState(func(e *stateEntry) error {
		if e.PID == os.Getpid() {
			e.PID = 0
		}
		return nil
	}); err != nil {
		s.log.Debug("cannot update the node's state file", "err", err)
	}
}

// forgetState drops the secret: the instructor removed the node, so it
// proves nothing any more.
func (s *Session) forgetState() {
	if s.opts.StateDir == "" {
		return
	}
	if err := s.editState(func(e *stateEntry) error {
		e.Secret, e.PID = "", 0
		return nil
	}); err != nil {
		s.log.Debug("cannot update the node's state file", "err", err)
	}
}

// editState reads this node's file, applies edit, and writes it back
// atomically, or removes it when nothing is left in it.
func (s *Session) editState(edit func(*stateEntry) error) error {
	path := s.statePath()
	e, err := readStateFile(path)
	if err != nil {
		return err
	}
	e.Proxy, e.Name = s.proxyKey(), s.opts.Name
	if err := edit(&e); err != nil {
		return err
	}
	if e.Secret == "" && e.PID == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	return writeStateFile(path, e)
}

// maxStateFileSize bounds what is read of a state file.
const maxStateFileSize = 64 << 10

func readStateFile(path string) (stateEntry, error) {
	var e stateEntry
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return e, nil
	case err != nil:
		return e, fmt.Errorf("node state file: %w", err)
	case len(data) > maxStateFileSize:
		return e, fmt.Errorf("node state file %s is larger than %d bytes; delete it", path, maxStateFileSize)
	}
	if err := json.Unmarshal(data, &e); err != nil {
		return stateEntry{}, fmt.Errorf("node state file %s is not valid JSON (%v); delete it (the node then joins under a new secret)", path, err)
	}
	return e, nil
}

// writeStateFile replaces the file atomically: a 0600 temporary file in the
// same directory (created 0700), synced, then renamed over the old one.
func writeStateFile(path string, e stateEntry) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("node state directory: %w", err)
	}
	data, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".node-state-*.tmp")
	if err != nil {
		return fmt.Errorf("node state file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		tmp.Close()
		return fmt.Errorf("node state file: %w", err)
	}
	_, err = tmp.Write(append(data, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("node state file: %w", err)
	}
	return os.Rename(tmp.Name(), path)
}
