package node

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
	"unique"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/kvclass/kvclass/kvapi"
)

// A node started with --data DIR keeps its keys, values, versions and
// tombstones in DIR/kvclass-node.db, a bbolt file, as well as in memory.
// Memory stays the hot path: reads are served from it, and the file is read
// once, at start. Every write is logged to the file by group commit: one
// goroutine commits whatever writes are waiting, in one bbolt transaction
// (one fsync), while the next writes queue for the following commit. A lone
// writer waits for one commit and no timer (bbolt's own Batch waits up to
// 10 ms for company first); many writers share each commit.
//
// The guarantee: a put or delete is answered (200, 404 or 409) only once
// the file holds the state it reports, fsynced; a read waits the same way
// for the entry it returns, so no answer shows a write that a crash could
// still lose. A write that crashes before its answer may or may not be in
// the file. If the file cannot be written, the node refuses every later
// write with 503 (ErrDisk) and keeps serving what the file holds.

// DataFileName is the name of a node's bbolt file in its data directory.
const DataFileName = "kvclass-node.db"

// ErrDisk is wrapped by the errors of a store whose data file cannot be
// written.
var ErrDisk = errors.New("the node cannot write to its data file")

var errClosed = fmt.Errorf("%w: the node is stopping", ErrDisk)

var (
	bucketKV   = []byte("kv")
	bucketMeta = []byte("meta")
	keyFormat  = []byte("format")
	formatV1   = []byte("1")
)

type opKind uint8

const (
	opPut    opKind = iota + 1 // store a value
	opTomb                     // store a tombstone
	opDelete                   // remove the key (a hand-off, an expired tombstone)
	opReset                    // remove everything
)

// op is one write to the data file, in the order the store made them.
type op struct {
	kind   opKind
	seq    uint64 // its number in the log, the entry's write order
	key    string
	value  string // opPut
	hlc    uint64 // opPut, opTomb
	origin string // opPut, opTomb
	at     int64  // opTomb: when the node stored it, Unix milliseconds
}

// log numbers a write and, with a data file, queues it for the next
// commit. The store calls it under the key's shard lock, so the file sees
// each key's writes in the order memory did.
func (s *Store) log(o op) (uint64, error) {
	if s.disk == nil {
		return s.seq.Add(1), nil
	}
	return s.disk.append(o)
}

// durable waits until the write numbered seq is in the data file.
func (s *Store) durable(seq uint64) error {
	if s.disk == nil {
		return nil
	}
	return s.disk.wait(seq)
}

// disk is a store's data file and its group commit.
type disk struct {
	db   *bolt.DB
	path string
	log  *slog.Logger

	durable atomic.Uint64 // every write numbered up to this is in the file

	mu       sync.Mutex
	seq      uint64 // the last write's number
	pending  []op   // writes waiting for the next commit
	next     *batch // the commit the pending writes will be in
	inflight *batch // the commit running, if any
	err      error  // set once: the file failed, or is closed; every later write fails with it
	closing  bool
	wake     chan struct{}
	stopped  chan struct{}
}

// batch is one commit: closed done once it ended, with err.
type batch struct {
	done chan struct{}
	last uint64 // the number of its last write
	err  error
}

// openDisk opens (creating it if needed) the data file in dir.
func openDisk(dir string, log *slog.Logger) (*disk, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the data directory: %w", err)
	}
	path := filepath.Join(dir, DataFileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:        time.Second,
		NoFreelistSync: true, // rebuilt at open: faster commits
		FreelistType:   bolt.FreelistMapType,
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("%s is in use by another process: give each node its own --data directory", path)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot open %s: %w (move the file away to start this node empty)", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		switch f := meta.Get(keyFormat); {
		case f == nil:
			if err := meta.Put(keyFormat, formatV1); err != nil {
				return err
			}
		case string(f) != string(formatV1):
			return fmt.Errorf("its format is %q, this kvclass reads %q: use the kvclass that wrote it, or move the file away", f, formatV1)
		}
		_, err = tx.CreateBucketIfNotExists(bucketKV)
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	d := &disk{
		db:      db,
		path:    path,
		log:     log,
		next:    &batch{done: make(chan struct{})},
		wake:    make(chan struct{}, 1),
		stopped: make(chan struct{}),
	}
	go d.run()
	return d, nil
}

// attach loads the data file into the empty store and logs every later
// write to it. Tombstones that expired while the node was stopped are
// dropped. It returns how many keys and tombstones it loaded.
func (s *Store) attach(d *disk) (keys, tombs int, err error) {
	cutoff := s.now().Add(-s.ttl).UnixMilli()
	var expired []string
	var last uint64
	err = d.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketKV).ForEach(func(k, v []byte) error {
			o, err := decodeRecord(v)
			if err != nil {
				return fmt.Errorf("the record of key %q is damaged (%v): move the file away to start this node empty", kvapi.Truncate(string(k), 60), err)
			}
			o.key = string(k)
			last = max(last, o.seq)
			if o.kind == opTomb && o.at <= cutoff {
				expired = append(expired, o.key)
				return nil
			}
			s.load(o)
			return nil
		})
	})
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", d.path, err)
	}
	d.seq = last
	d.durable.Store(last)
	s.seq.Store(last)
	s.disk = d
	for _, k := range expired {
		s.log(op{kind: opDelete, key: k})
	}
	return s.Len(), s.Tombstones(), nil
}

// load puts one record of the data file into memory, as it was written.
func (s *Store) load(o op) {
	sh := s.shard(o.key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b := fineBucket(o.key)
	origin := unique.Make(o.origin)
	s.clock.Advance(o.hlc)
	v := kvapi.Version{HLC: o.hlc, Origin: o.origin}
	switch o.kind {
	case opPut:
		sh.m[o.key] = entry{value: o.value, slot: makeSlot(o.seq, b), hlc: o.hlc, origin: origin}
		s.digest.add(b, o.key, v, false)
		s.count.Add(1)
		s.bytes.Add(cost(o.key, o.value))
		s.used.Add(cost(o.key, o.value))
	case opTomb:
		sh.t[o.key] = tomb{slot: makeSlot(o.seq, b), hlc: o.hlc, origin: origin, at: o.at}
		s.digest.add(b, o.key, v, true)
		s.tombs.Add(1)
		s.used.Add(tombCost(o.key))
	}
}

// append queues a write for the next commit and returns its number.
func (d *disk) append(o op) (uint64, error) {
	d.mu.Lock()
	if d.err != nil {
		err := d.err
		d.mu.Unlock()
		return 0, err
	}
	d.seq++
	o.seq = d.seq
	d.pending = append(d.pending, o)
	d.next.last = d.seq
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
	return o.seq, nil
}

// wait returns once the write numbered seq is in the file, or with the
// error that kept it out.
func (d *disk) wait(seq uint64) error {
	if d.durable.Load() >= seq {
		return nil
	}
	d.mu.Lock()
	if d.durable.Load() >= seq {
		d.mu.Unlock()
		return nil
	}
	b := d.next
	switch {
	case d.inflight != nil && seq <= d.inflight.last:
		b = d.inflight
	case d.err != nil:
		err := d.err
		d.mu.Unlock()
		return err
	}
	d.mu.Unlock()
	<-b.done
	return b.err
}

// run commits waiting writes, one transaction at a time, until the disk is
// closed and nothing waits.
func (d *disk) run() {
	defer close(d.stopped)
	var spare []op
	for {
		d.mu.Lock()
		for len(d.pending) == 0 {
			if d.closing {
				if d.err == nil {
					d.err = errClosed
				}
				d.mu.Unlock()
				return
			}
			d.mu.Unlock()
			<-d.wake
			d.mu.Lock()
		}
		ops, b := d.pending, d.next
		d.pending, d.next, d.inflight = spare[:0], &batch{done: make(chan struct{})}, b
		err := d.err // after a failure, nothing more is written
		d.mu.Unlock()

		if err == nil {
			err = d.commit(ops)
		}

		d.mu.Lock()
		if err == nil {
			d.durable.Store(b.last)
		} else if d.err == nil {
			d.err = err
			d.log.Error("the data file failed: this node refuses writes from now on; restart it once the disk is fixed (what was acknowledged is in the file)", "file", d.path, "err", err)
		}
		b.err = err
		d.inflight = nil
		d.mu.Unlock()
		close(b.done)
		clear(ops)
		spare = ops
	}
}

// commit writes ops in one transaction.
func (d *disk) commit(ops []op) error {
	err := d.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketKV)
		for i := range ops {
			o := &ops[i]
			var err error
			switch o.kind {
			case opPut, opTomb:
				err = b.Put([]byte(o.key), encodeRecord(o))
			case opDelete:
				err = b.Delete([]byte(o.key))
			case opReset:
				if err = tx.DeleteBucket(bucketKV); err == nil {
					b, err = tx.CreateBucket(bucketKV)
				}
			}
			if err != nil {
				return fmt.Errorf("key %q: %w", kvapi.Truncate(o.key, 60), err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%w %s: %v", ErrDisk, d.path, err)
	}
	return nil
}

// close commits what waits, stops the committer and closes the file.
func (d *disk) close() error {
	d.mu.Lock()
	d.closing = true
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
	<-d.stopped
	return d.db.Close()
}

// A record is a key's value in the data file:
//
//	kind (1 byte: 1 value, 2 tombstone) | seq (8) | HLC (8) | len(origin) (1) | origin |
//	value: the value's compact JSON | tombstone: when it was stored, Unix ms (8)
//
// Numbers are big-endian.
const recordHead = 1 + 8 + 8 + 1

func encodeRecord(o *op) []byte {
	n := recordHead + len(o.origin) + 8
	if o.kind == opPut {
		n += len(o.value) - 8
	}
	b := make([]byte, 0, n)
	b = append(b, byte(o.kind))
	b = binary.BigEndian.AppendUint64(b, o.seq)
	b = binary.BigEndian.AppendUint64(b, o.hlc)
	b = append(b, byte(len(o.origin)))
	b = append(b, o.origin...)
	if o.kind == opPut {
		return append(b, o.value...)
	}
	return binary.BigEndian.AppendUint64(b, uint64(o.at))
}

func decodeRecord(b []byte) (op, error) {
	if len(b) < recordHead {
		return op{}, errors.New("too short")
	}
	o := op{kind: opKind(b[0]), seq: binary.BigEndian.Uint64(b[1:]), hlc: binary.BigEndian.Uint64(b[9:])}
	n := int(b[17])
	rest := b[recordHead:]
	if len(rest) < n {
		return op{}, errors.New("too short for its origin")
	}
	o.origin, rest = string(rest[:n]), rest[n:]
	if o.hlc == 0 || o.origin == "" {
		return op{}, errors.New("no version")
	}
	switch o.kind {
	case opPut:
		if len(rest) == 0 {
			return op{}, errors.New("no value")
		}
		o.value = string(rest)
	case opTomb:
		if len(rest) != 8 {
			return op{}, errors.New("a tombstone without its time")
		}
		o.at = int64(binary.BigEndian.Uint64(rest))
	default:
		return op{}, fmt.Errorf("unknown kind %d", o.kind)
	}
	return o, nil
}
