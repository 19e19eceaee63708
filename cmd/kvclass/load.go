package main

import (
	"context"
	"errors"
	"io"

	"github.com/kvclass/kvclass/check"
)

// runLoad is "kvclass load": paced requests through the proxy, with a live
// progress line and a summary.
func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("load", stderr)
	var cfg check.LoadConfig
	fs.StringVar(&cfg.Proxy, "proxy", "", "the proxy's `URL`")
	fs.Float64Var(&cfg.Rate, "rate", check.DefaultRate, "requests per second, paced evenly")
	fs.DurationVar(&cfg.Duration, "duration", check.DefaultLoadDuration, "how long to send")
	fs.IntVar(&cfg.Keys, "keys", check.DefaultKeys, "spread over `K` keys, key-0 … key-K-1")
	fs.Float64Var(&cfg.PutRatio, "put-ratio", check.DefaultPutRatio, "the fraction of requests that are puts (0 gets only, 1 puts only)")
	fs.IntVar(&cfg.Concurrency, "concurrency", check.DefaultConcurrency, "at most `C` requests in flight")
	fs.BoolVar(&cfg.Force, "force", false, "against an ngrok URL, allow a rate above the free plan's 4,000 requests a minute")
	if err := parse(fs, args); err != nil {
		return err
	}
	if cfg.Proxy == "" {
		return usageError("kvclass load needs --proxy URL")
	}
	if _, err := check.RunLoad(ctx, cfg, stdout); err != nil {
		if errors.Is(err, context.Canceled) {
			return nil
		}
		return usageError("%v", err)
	}
	return nil
}

// runCheck is "kvclass check": concurrent clients through the proxy record
// a history, which is checked for linearizability. Exit 0 linearizable, 1
// not, 2 when it could not run or reached no verdict.
func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("check", stderr)
	var cfg check.CheckConfig
	fs.StringVar(&cfg.Proxy, "proxy", "", "the proxy's `URL`")
	fs.DurationVar(&cfg.Duration, "duration", check.DefaultCheckDuration, "how long the clients run")
	fs.IntVar(&cfg.Clients, "clients", check.DefaultClients, "`C` concurrent clients")
	fs.IntVar(&cfg.Keys, "keys", check.DefaultCheckKeys, "over `K` keys of the check's own")
	fs.Float64Var(&cfg.Rate, "rate", check.DefaultCheckRate, "operations per second in all")
	fs.StringVar(&cfg.HTML, "html", "", "write the history's visualization to `FILE`")
	fs.BoolVar(&cfg.Force, "force", false, "against an ngrok URL, allow a rate above the free plan's limit")
	if err := parse(fs, args); err != nil {
		return err
	}
	if cfg.Proxy == "" {
		return usageError("kvclass check needs --proxy URL")
	}
	r, err := check.RunCheck(ctx, cfg, stdout)
	switch code := check.ExitCode(r, err); {
	case err != nil:
		return &exitError{code: code, err: err}
	case code != 0:
		return &exitError{code: code, err: errQuiet}
	}
	return nil
}

// errQuiet is an exit status whose reason the command already printed.
var errQuiet = errors.New("")
