package proxy

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/placement"
	"github.com/kvclass/kvclass/registry"
)

// File is the proxy's config file, as the seed wrote it:
//
//	mode: sharding            # or replication
//	write_quorum: 1           # replication only; optional
//	placement: modulo         # or ring, rendezvous; optional
//	vnodes: 64                # ring only; optional
//	replicas: 1               # owners per key (N); optional
//	read_quorum: 1            # R; optional
//	read_repair: async        # off, async or sync; optional
//	hinted_handoff: false     # optional
//	anti_entropy: 0           # an interval such as 30s; 0 is off; optional
//	rebalance: manual         # or auto; optional
//	nodes:                    # optional once nodes can join live
//	  - name: kv1
//	    url: http://localhost:5000
//	  - http://localhost:5001 # a plain URL is named by its host:port
type File struct {
	Mode        Mode
	WriteQuorum int
	Placement   placement.Config  // placement:, vnodes:, replicas:
	Replication ReplicationConfig // read_quorum:, read_repair:, hinted_handoff:, anti_entropy:
	Rebalance   string            // rebalance: auto moves misplaced keys after every membership change
	Nodes       []registry.Static
}

// ConfigError is a mistake in the config file, with the line it is on.
type ConfigError struct {
	File string
	Line int
	Msg  string
}

func (e *ConfigError) Error() string {
	if e.Line > 0 {
		return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
	}
	return e.File + ": " + e.Msg
}

// LoadFile reads and checks the config file at path.
func LoadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return ParseFile(path, data)
}

// ParseFile parses and checks a config file's contents; name is used in
// error messages. Unknown fields, an unknown mode, a bad URL and a repeated
// node name are errors that name their line.
func ParseFile(name string, data []byte) (*File, error) {
	f := &File{Mode: Sharding, WriteQuorum: 1}
	if len(bytes.TrimSpace(data)) == 0 {
		return f, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlError(name, err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return f, nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return f, nil
	}
	fail := func(n *yaml.Node, format string, args ...any) error {
		return &ConfigError{File: name, Line: n.Line, Msg: fmt.Sprintf(format, args...)}
	}
	if root.Kind != yaml.MappingNode {
		return nil, fail(root, "the config must be a mapping with mode and nodes")
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if seen[k.Value] {
			return nil, fail(k, "field %q appears twice", k.Value)
		}
		seen[k.Value] = true
		switch k.Value {
		case "mode":
			m, err := ParseMode(v.Value)
			if v.Kind != yaml.ScalarNode || err != nil {
				return nil, fail(v, "unknown mode %q: use sharding or replication", v.Value)
			}
			f.Mode = m
		case "write_quorum":
			q, err := strconv.Atoi(v.Value)
			if v.Kind != yaml.ScalarNode || err != nil || q < 1 {
				return nil, fail(v, "write_quorum must be a whole number of at least 1, not %q", v.Value)
			}
			f.WriteQuorum = q
		case "placement":
			st, err := placement.ParseStrategy(v.Value)
			if v.Kind != yaml.ScalarNode || err != nil {
				return nil, fail(v, "unknown placement %q: use modulo, ring or rendezvous", v.Value)
			}
			f.Placement.Strategy = st
		case "vnodes", "replicas":
			n, err := strconv.Atoi(v.Value)
			if v.Kind != yaml.ScalarNode || err != nil || n < 1 {
				return nil, fail(v, "%s must be a whole number of at least 1, not %q", k.Value, v.Value)
			}
			if k.Value == "vnodes" {
				f.Placement.VNodes = n
			} else {
				f.Placement.Replicas = n
			}
		case "read_quorum":
			q, err := strconv.Atoi(v.Value)
			if v.Kind != yaml.ScalarNode || err != nil || q < 1 {
				return nil, fail(v, "read_quorum must be a whole number of at least 1, not %q", v.Value)
			}
			f.Replication.ReadQuorum = q
		case "read_repair":
			switch v.Value {
			case RepairOff, RepairAsync, RepairSync:
				f.Replication.ReadRepair = v.Value
			default:
				return nil, fail(v, "unknown read_repair %q: use off, async or sync", v.Value)
			}
		case "hinted_handoff":
			b, err := strconv.ParseBool(v.Value)
			if v.Kind != yaml.ScalarNode || err != nil {
				return nil, fail(v, "hinted_handoff must be true or false, not %q", v.Value)
			}
			f.Replication.HintedHandoff = b
		case "anti_entropy":
			d, err := parseInterval(v.Value)
			if v.Kind != yaml.ScalarNode || err != nil {
				return nil, fail(v, "anti_entropy must be an interval such as 30s, or 0 (off), not %q", v.Value)
			}
			f.Replication.AntiEntropy = d
		case "rebalance":
			if v.Value != "auto" && v.Value != "manual" {
				return nil, fail(v, "rebalance must be auto or manual, not %q", v.Value)
			}
			f.Rebalance = v.Value
		case "nodes":
			nodes, err := parseNodes(v, fail)
			if err != nil {
				return nil, err
			}
			f.Nodes = nodes
		default:
			return nil, fail(k, "unknown field %q (the fields are mode, write_quorum, placement, vnodes, replicas, read_quorum, read_repair, hinted_handoff, anti_entropy, rebalance and nodes)", k.Value)
		}
	}
	if err := f.Placement.Validate(); err != nil {
		return nil, &ConfigError{File: name, Msg: err.Error()}
	}
	if _, err := f.Replication.normalize(); err != nil {
		return nil, &ConfigError{File: name, Msg: err.Error()}
	}
	return f, nil
}

func parseNodes(list *yaml.Node, fail func(*yaml.Node, string, ...any) error) ([]registry.Static, error) {
	if list.Kind == yaml.ScalarNode && list.Tag == "!!null" {
		return nil, nil
	}
	if list.Kind != yaml.SequenceNode {
		return nil, fail(list, "nodes must be a list of {name, url} items or URLs")
	}
	var nodes []registry.Static
	names := map[string]int{}
	for _, item := range list.Content {
		var n registry.Static
		switch item.Kind {
		case yaml.ScalarNode:
			n.URL = item.Value
		case yaml.MappingNode:
			for i := 0; i+1 < len(item.Content); i += 2 {
				k, v := item.Content[i], item.Content[i+1]
				if v.Kind != yaml.ScalarNode {
					return nil, fail(v, "node field %q must be a string", k.Value)
				}
				switch k.Value {
				case "name":
					n.Name = v.Value
				case "url":
					n.URL = v.Value
				default:
					return nil, fail(k, "unknown node field %q (a node has name and url)", k.Value)
				}
			}
		default:
			return nil, fail(item, "a node must be {name, url} or a URL")
		}
		u, err := kvapi.ParseNodeURL(n.URL)
		if err != nil {
			return nil, fail(item, "bad node URL: %s", strings.TrimPrefix(err.Error(), kvapi.ErrBadURL.Error()+": "))
		}
		if n.Name == "" {
			n.Name = u.Host
		}
		if err := kvapi.CheckName(n.Name); err != nil && item.Kind == yaml.MappingNode {
			return nil, fail(item, "%s", err)
		}
		if line, dup := names[n.Name]; dup {
			return nil, fail(item, "node name %q is used twice (first on line %d)", n.Name, line)
		}
		names[n.Name] = item.Line
		nodes = append(nodes, n)
	}
	return nodes, nil
}

func yamlError(name string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	// yaml.v3 says "line N: ..."; turn it into file:N: ...
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, text, ok := strings.Cut(rest, ": "); ok {
			if line, err := strconv.Atoi(num); err == nil {
				return &ConfigError{File: name, Line: line, Msg: text}
			}
		}
	}
	return &ConfigError{File: name, Msg: msg}
}
