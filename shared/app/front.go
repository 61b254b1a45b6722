package app

import (
	"net/http"
	"time"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/control"
	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/otp"
)

// Parts are what New assembles for every function, handed to the front door
// that serves them.
type Parts struct {
	Config  config.Config
	Options Options // as given to New, with Logger, Now and Rand filled in
	// Now is the time codes, limits and records see: the test kit's clock
	// when the control plane is on, else Options.Now. Signatures are checked
	// against Options.Now.
	Now      func() time.Time
	Accounts *accounts.Registry
	Store    Store // as the services use it: measured when Options.Metrics is set
	Engine   *otp.Engine
	Sender   delivery.Sender
	Control  *control.Plane // the test kit's control plane, nil when it is off
}

// Front is a built front door: its handler, and its actions for the control
// plane's list.
type Front struct {
	Handler http.Handler
	Actions []control.Action
}

// FrontDoor builds a front door and its services from the parts.
type FrontDoor func(Parts) (Front, error)
