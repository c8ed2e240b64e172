// Package loadtest holds tests that put the client and the simulator
// under load and through crashes, on loopback only and bounded in time:
//
//   - TestLoad: many concurrent dsm.Clients doing mixed reads and writes
//     against the simulator, a fixed number of steps per client
//     (-load.steps, default 40; -load.clients, default 16; or
//     -load.duration to measure for a period): no failed call, no data
//     race under -race, a stable heap, and the throughput and p50/p99
//     latency in the test log. BenchmarkMixed is the same mix as a
//     benchmark.
//   - TestLoadFaults: the same mix through a flaky NAS (busy code 117,
//     connections reset before and after the work, on the user and
//     membership calls) with clients that retry with millisecond
//     backoffs; -faults.steps per client (default 400; -faults.clients,
//     default 8), the faults and the steps drawn from -faults.seed
//     (default 1; 0: a random one): no failed call, exactly the users the
//     clients kept (none twice, none missing), and the throughput,
//     p50/p99 and retries in the test log. A failure names its seed.
//   - TestDurability: "dsmctl sim --data" as a real process, written to by
//     several clients and killed with SIGKILL at random moments; every
//     acknowledged change must be there after each restart.
//
// The package has no code outside its tests.
package loadtest
