package edgetest

import "golang.ngrok.com/muxado/v2"

// The wire protocol between an ngrok agent and the edge, as spoken by
// golang.ngrok.com/ngrok/v2 v2.4.0 (its types live in an internal package, so
// they are restated here). Each stream on the muxado session starts with a
// 4-byte big-endian type; an RPC is then one JSON object each way.
const (
	streamAuth             muxado.StreamType = 0  // agent → edge: authenticate the session
	streamBind             muxado.StreamType = 1  // agent → edge: create (or re-create) an endpoint
	streamUnbind           muxado.StreamType = 2  // agent → edge: remove an endpoint
	streamProxy            muxado.StreamType = 3  // edge → agent: one public connection
	streamRestart          muxado.StreamType = 4  // edge → agent: the dashboard's "restart agent"
	streamStop             muxado.StreamType = 5  // edge → agent: the dashboard's "stop agent"
	streamUpdate           muxado.StreamType = 6  // edge → agent: the dashboard's "update agent"
	streamSrvInfo          muxado.StreamType = 8  // agent → edge: region probe (also used by Diagnose)
	streamStopTunnel       muxado.StreamType = 9  // edge → agent: an endpoint stopped by ngrok
	streamPatchTunnelState muxado.StreamType = 10 // agent → edge: update endpoint metadata
)

// authReq is the agent's Auth request.
type authReq struct {
	Version  []string
	ClientID string `json:"ClientId"`
	Extra    struct {
		Authtoken          string
		Version            string
		ClientType         string
		UserAgent          string
		Metadata           string
		HeartbeatInterval  int64 // nanoseconds
		HeartbeatTolerance int64 // nanoseconds
		// nil: the agent is too old to be asked; "": supported; else why not.
		StopUnsupportedError    *string
		RestartUnsupportedError *string
		UpdateUnsupportedError  *string
	}
}

// authResp answers authReq; an empty Error accepts the session.
type authResp struct {
	Version  string
	ClientID string `json:"ClientId"`
	Error    string
	Extra    authRespExtra
}

type authRespExtra struct {
	Version        string
	Region         string
	AccountName    string
	PlanName       string
	AgentSessionID string
}

// bindReq asks for an endpoint. Id is empty on a first bind and the endpoint's
// Id when the agent re-binds after a reconnect.
type bindReq struct {
	ID    string `json:"Id"`
	Proto string
	Opts  struct {
		URL string
	}
	Extra struct {
		Name        string
		Description string
		Metadata    string
	}
}

// bindResp answers bindReq; the agent routes proxy streams by Id.
type bindResp struct {
	ID    string `json:"Id"`
	URL   string
	Proto string
	Opts  bindRespOpts
	Error string
	Extra bindRespExtra
}

type bindRespOpts struct {
	URL string
}

type bindRespExtra struct {
	Token    string
	TunnelID string
}

// unbindReq removes the endpoint with Id.
type unbindReq struct {
	ID string `json:"Id"`
}

// errorResp is the shape of unbind and patch answers (and of any error).
type errorResp struct {
	Error string
}

// srvInfoResp answers a SrvInfo probe.
type srvInfoResp struct {
	Region string
}

// proxyHeader opens each proxy stream, after an int64 little-endian length.
type proxyHeader struct {
	ID         string `json:"Id"`
	ClientAddr string
	Proto      string
}

// commandResp answers a stop, restart or update command; an empty Error
// means the agent does it.
type commandResp struct {
	Error string
}

// updateReq asks the agent to update itself.
type updateReq struct {
	Version            string
	PermitMajorVersion bool
}

// stopTunnelReq tells the agent that ngrok stopped one of its endpoints; the
// agent does not answer it.
type stopTunnelReq struct {
	ID        string `json:"Id"`
	Message   string
	ErrorCode string
}
