// Package tlog is Hallmark's transparency log of decisions: every label issued,
// suspended, restored, revoked, surrendered or expired, every scheme published,
// every key added or retired and every mutual-recognition agreement recorded is
// appended as a small canonical [Entry] holding hashes and identifiers only.
//
// The log is a C2SP tlog-tiles log run by Tessera's POSIX driver: the directory
// given to [Open] is the tree served as static files (checkpoint, tile/...,
// tile/entries/...) plus Tessera's private .state directory. [Log.Append]
// returns a [Receipt] in the C2SP tlog-proof format that anyone can check
// offline with [VerifyReceipt]; [Audit] re-derives the whole tree from a copy of
// the log (a URL or a directory) and names every discrepancy it finds.
//
// Peer authorities witness each other's logs with [Witness] (C2SP
// tlog-witness, cosignature/v1), and a log can be told with [WitnessPolicy] to
// publish a checkpoint only once enough witnesses have cosigned it, so a
// split view (two different trees under one key) cannot be shown to two
// audiences without a witness refusing.
//
// Files:
//
//	key dir      log.key (0600, never served), verifiers (public: every key
//	             the log has signed with), witness.key (0600)
//	log dir      checkpoint, tile/... (serve these as static files),
//	             .state/ (Tessera's private state and hallmark-dedup, the
//	             dedup index; not secret, no need to serve)
//	witness dir  witness-state.json (per log, the latest cosigned checkpoint)
//
// One process appends to a log directory at a time.
package tlog
