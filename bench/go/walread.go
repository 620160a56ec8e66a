// walread: etcd's own WAL reader (go.etcd.io/etcd/wal from Debian's golang-etcd-server-dev,
// etcd 3.4.23), the yardstick for `wal-doctor verify`. It opens a WAL dir read-only at snapshot
// {0,0}, reads every record with ReadAll (which checks every CRC) and prints the entry count.
// Built by bench/bench.mjs in GOPATH mode: GO111MODULE=off GOPATH=/usr/share/gocode.
package main

import (
	"fmt"
	"os"

	"go.etcd.io/etcd/wal"
	"go.etcd.io/etcd/wal/walpb"
	"go.uber.org/zap"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: walread WAL_DIR")
		os.Exit(2)
	}
	w, err := wal.OpenForRead(zap.NewNop(), os.Args[1], walpb.Snapshot{Index: 0, Term: 0})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(1)
	}
	defer w.Close()
	_, st, ents, err := w.ReadAll()
	if err != nil {
		fmt.Fprintln(os.Stderr, "readall:", err)
		os.Exit(1)
	}
	fmt.Printf("entries %d commit %d\n", len(ents), st.Commit)
}
