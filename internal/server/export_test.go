package server

// SetSyncObserver lets tests see every fsync of evidence files and their
// directories, in order.
func SetSyncObserver(fn func(path string)) { syncObserved = fn }

// ReadLimited is readLimited, for its test.
var ReadLimited = readLimited
