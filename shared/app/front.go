package app

import (
	"net/http"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/otp"
)

// Parts are what New assembles for every function, handed to the front door
// that serves them.
type Parts struct {
	Config   config.Config
	Options  Options // as given to New, with Logger, Now and Rand filled in
	Accounts *accounts.Registry
	Store    Store
	Engine   *otp.Engine
	Sender   delivery.Sender
}

// FrontDoor builds the handler of a front door and its services from the
// parts.
type FrontDoor func(Parts) (http.Handler, error)
