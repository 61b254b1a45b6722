//go:build !verifyfn_providers || provider_twilio

package setup

import (
	"io"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/delivery/twilio"
)

// twilioSMSProvider builds twilio_sms (Twilio Programmable Messaging).
func twilioSMSProvider() builder { return twilioProvider(false) }

// twilioVoiceProvider builds twilio_voice (Twilio Programmable Voice).
func twilioVoiceProvider() builder { return twilioProvider(true) }

func twilioProvider(voice bool) builder {
	return func(p *parser, where string, n *yaml.Node) (delivery.Sender, io.Closer, bool, error) {
		var sp twilioSpec
		if !p.decode(where, n, &sp) {
			return nil, nil, false, nil
		}
		tc := twilio.Config{
			AccountSID: sp.AccountSID, AuthToken: accounts.NewSecret(sp.AuthToken), From: sp.From,
			MessagingServiceSID: sp.MessagingServiceSID, BaseURL: sp.BaseURL, Edge: sp.Edge, Region: sp.Region,
			Voice: sp.Voice, Voices: sp.Voices, Loop: sp.Loop, HTTPClient: p.opt.HTTPClient, Timeout: sp.Timeout,
		}
		var (
			s   *twilio.Sender
			err error
		)
		if voice {
			s, err = twilio.NewVoice(tc)
		} else {
			s, err = twilio.NewSMS(tc)
		}
		if err != nil {
			return nil, nil, true, err
		}
		return s, nil, true, nil
	}
}

// twilioSpec is twilio_sms's and twilio_voice's keys. Fields tagged
// secret:"true" must be references; every string field may be one.
type twilioSpec struct {
	Type                string            `yaml:"type"`
	AccountSID          string            `yaml:"account_sid"`
	AuthToken           string            `yaml:"auth_token" secret:"true"`
	From                string            `yaml:"from"`
	MessagingServiceSID string            `yaml:"messaging_service_sid"`
	BaseURL             string            `yaml:"base_url"`
	Edge                string            `yaml:"edge"`
	Region              string            `yaml:"region"`
	Voice               string            `yaml:"voice"`
	Voices              map[string]string `yaml:"voices"`
	Loop                int               `yaml:"loop"`
	Timeout             time.Duration     `yaml:"timeout"`
}
