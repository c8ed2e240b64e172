package dsmtest

import "github.com/dsmkit/dsm/internal/sim"

// Fault is a failure to inject into the simulator's calls: latency, a DSM
// error code, a reset connection (before or after the call is applied), a
// truncated or malformed answer, a proxy's HTTP 502, or expired sessions.
// It acts on the calls of one API and method ("" or "*": any), on every
// matching call, on the next Times of them, or with a Probability.
//
//	srv := dsmtest.Start(t, dsmtest.WithFault(dsmtest.Fault{
//		API: "SYNO.Core.User", Method: "create", Kind: dsmtest.FaultResetAfter, Times: 1,
//	}))
//
// ParseFault reads the same faults from the spec language of
// "dsmctl sim --fault" (FaultSpecHelp).
type Fault = sim.Fault

// FaultKind is what a Fault does to a call.
type FaultKind = sim.FaultKind

// FaultStatus is an injected Fault with how often it fired.
type FaultStatus = sim.FaultStatus

// The kinds of Fault; see the constants of the same names in the
// simulator for the details. "Applied" faults let the call change the
// state and then damage the answer, so the client cannot tell whether its
// change happened.
const (
	FaultLatency        = sim.FaultLatency        // add Fault.Delay before the call
	FaultCode           = sim.FaultCode           // answer DSM error Fault.Code; not applied
	FaultReset          = sim.FaultReset          // close the connection, no answer; not applied
	FaultResetAfter     = sim.FaultResetAfter     // apply, then close the connection, no answer
	FaultTruncate       = sim.FaultTruncate       // apply, send half the answer, close
	FaultMalformed      = sim.FaultMalformed      // apply, answer 200 with half an envelope
	FaultBadGateway     = sim.FaultBadGateway     // answer HTTP 502 with an HTML page; not applied
	FaultExpireSessions = sim.FaultExpireSessions // end every session before the call
)

// FaultSpecHelp describes the fault spec language of ParseFault.
const FaultSpecHelp = sim.FaultSpecHelp

// ParseFault reads a fault spec API:METHOD:KIND[:times=N][:p=P], e.g.
// "SYNO.Core.User:create:code=117:times=2", "*:*:reset:p=0.05",
// "*:*:latency=50ms" or "SYNO.Core.User:create:reset-after".
func ParseFault(spec string) (Fault, error) { return sim.ParseFault(spec) }

// WithFault injects f from the start; an invalid f makes NewServer fail.
// Give it more than once for several faults: latency faults add up, and
// of the others the first that fires on a call acts.
func WithFault(f Fault) Option {
	return func(c *config) { c.sim.Faults = append(c.sim.Faults, f) }
}

// WithFaultSeed seeds the random source of the faults' probabilities:
// the same calls in the same order then fail the same way. Default: a
// random seed.
func WithFaultSeed(seed uint64) Option {
	return func(c *config) { c.sim.FaultSeed = seed }
}

// InjectFault adds a fault that acts on the calls from now on. The
// simulator also serves its faults to loopback clients at /_sim/faults
// (GET, POST, DELETE), for tests in other languages.
func (s *Server) InjectFault(f Fault) error { return s.sim.InjectFault(f) }

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() { s.sim.ClearFaults() }

// Faults returns the injected faults with how often each fired.
func (s *Server) Faults() []FaultStatus { return s.sim.Faults() }

// ExpireSessions ends every session now, as a DSM restart does: clients
// get code 119 on their next call (and a client with credentials logs in
// again).
func (s *Server) ExpireSessions() { s.sim.ExpireSessions() }
