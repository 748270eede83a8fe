// Package boot is the cold start every function shares: JSON logging,
// configuration from the environment and one DynamoDB client, made once per
// execution environment and outside the handler.
package boot

import (
	"context"
	"log/slog"
	"os"

	"tailor/shared/platform/apigw"
	"tailor/shared/platform/config"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/obs"
)

// Deps are what a function's main wires its handler from.
type Deps struct {
	Log *slog.Logger
	Env *config.Env
	DB  ddb.DB
}

// Start sets up logging, reads the environment and creates the DynamoDB
// client. Only main calls it; it exits the process when the client cannot
// be made, as Lambda then reports an init error.
func Start() *Deps {
	log := obs.NewLogger(os.Stdout)
	slog.SetDefault(log)
	db, err := ddb.NewClient(context.Background())
	if err != nil {
		log.Error("cold start failed", "error", err.Error())
		os.Exit(1)
	}
	return &Deps{Log: log, Env: config.FromOS(), DB: db}
}

// Ready exits when any required setting was missing; call it after reading
// every setting so the log names them all at once.
func (d *Deps) Ready() {
	if err := d.Env.Err(); err != nil {
		d.Log.Error("cold start failed", "error", err.Error())
		os.Exit(1)
	}
}

// HTTP returns the handler for an API function whose routes register adds.
func (d *Deps) HTTP(register func(*apigw.Router)) func(context.Context, apigw.Event) (apigw.Result, error) {
	d.Ready()
	r := apigw.NewRouter(d.Log)
	register(r)
	return r.Serve
}
