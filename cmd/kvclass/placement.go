package main

import (
	"flag"

	"github.com/kvclass/kvclass/placement"
)

// placementFlags are the flags proxy and where share to choose a placement.
type placementFlags struct {
	strategy string
	vnodes   int
	replicas int
}

func (f *placementFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.strategy, "placement", "", "where keys live: modulo (the seed's), ring or rendezvous (default: the config's, else modulo)")
	fs.IntVar(&f.vnodes, "vnodes", 0, "ring: `N` points per node (default 64)")
	fs.IntVar(&f.replicas, "replicas", 0, "sharding: `N` owners per key (default 1)")
}

// config returns the placement the flags ask for, nil when none was given
// (the config file's or the state file's then holds).
func (f *placementFlags) config() (*placement.Config, error) {
	if f.strategy == "" && f.vnodes == 0 && f.replicas == 0 {
		return nil, nil
	}
	var cfg placement.Config
	if f.strategy != "" {
		st, err := placement.ParseStrategy(f.strategy)
		if err != nil {
			return nil, usageError("--placement: %v", err)
		}
		cfg.Strategy = st
	}
	cfg.VNodes, cfg.Replicas = f.vnodes, f.replicas
	if err := cfg.Validate(); err != nil {
		return nil, usageError("%v", err)
	}
	return &cfg, nil
}
