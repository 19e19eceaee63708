package tunnel

import (
	"context"
	"testing"
	"time"

	"golang.ngrok.com/ngrok/v2"

	"github.com/kvclass/kvclass/tunnel/edgetest"
)

// The SDK may report a failed TLS handshake as a closed session, without
// the certificate error; start then probes the edge. This checks that the
// probe classifies an untrusted certificate.
func TestDiagnoseClassifiesAnUntrustedCertificate(t *testing.T) {
	edge, err := edgetest.Start(edgetest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer edge.Close()

	for _, trusted := range []bool{false, true} {
		opts := []ngrok.AgentOption{ngrok.WithAgentConnectURL(edge.ConnectAddr())}
		if trusted {
			opts = append(opts, ngrok.WithAgentConnectCAs(edge.CAs()))
		}
		agent, err := ngrok.NewAgent(opts...)
		if err != nil {
			t.Fatal(err)
		}
		err = diagnose(context.Background(), agent, time.Now().Add(5*time.Second))
		certFailure := err != nil && ngrok.IsTLSDiagnoseFailure(err) && isCertificateError(err)
		if certFailure == trusted {
			t.Errorf("trusted=%v: diagnose = %v", trusted, err)
		}
		if trusted && err != nil {
			t.Errorf("diagnose of a trusted edge = %v", err)
		}
	}
}
