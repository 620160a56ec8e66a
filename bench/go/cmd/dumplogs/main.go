// Command dumplogs is the yardstick for `wal-doctor export`: etcd-dump-logs' default listing
// (`etcd-dump-logs DATA_DIR`), written against the packages of go.etcd.io/etcd/server/v3 and
// api/v3 pinned in ../../go.mod, because etcd-dump-logs' own module (go.etcd.io/etcd/tools/v3) is not
// published on the Go module proxy. It does the work etcd-dump-logs does, the same way: load the
// newest .snap, wal.OpenForRead at it + ReadAll (every CRC checked, every entry kept in memory), then
// one line per entry — "term index norm <InternalRaftRequest.String()>", a v2 request's method and
// path, "conf method=... id=..." — printed with unbuffered fmt.Printf calls to stdout, and the count.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/client/pkg/v3/types"
	"go.etcd.io/etcd/pkg/v3/pbutil"
	"go.etcd.io/etcd/server/v3/etcdserver/api/snap"
	"go.etcd.io/etcd/server/v3/storage/wal"
	"go.etcd.io/etcd/server/v3/storage/wal/walpb"
	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"
)

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "dumplogs: "+format+"\n", a...)
	os.Exit(1)
}

func quoted(s string, head, tail int) string {
	if head+tail > len(s) {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q...%q", s[:head], s[len(s)-tail:])
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: dumplogs DATA_DIR")
		os.Exit(2)
	}
	dataDir := os.Args[1]
	lg := zap.NewNop()
	var at walpb.Snapshot
	s, err := snap.New(lg, filepath.Join(dataDir, "member", "snap")).Load()
	switch err {
	case nil:
		at.Index, at.Term = s.Metadata.Index, s.Metadata.Term
		cs, _ := json.Marshal(s.Metadata.ConfState)
		fmt.Printf("Snapshot:\nterm=%d index=%d confstate=%s\n", at.Term, at.Index, cs)
	case snap.ErrNoSnapshot:
		fmt.Print("Snapshot:\nempty\n")
	default:
		fail("loading the snapshot: %v", err)
	}
	w, err := wal.OpenForRead(lg, filepath.Join(dataDir, "member", "wal"), at)
	if err != nil {
		fail("opening the WAL: %v", err)
	}
	md, st, ents, err := w.ReadAll()
	w.Close()
	if err != nil {
		fail("reading the WAL: %v", err)
	}
	var m etcdserverpb.Metadata
	pbutil.MustUnmarshal(&m, md)
	fmt.Printf("WAL metadata:\nnodeID=%s clusterID=%s term=%d commitIndex=%d vote=%s\n",
		types.ID(m.NodeID), types.ID(m.ClusterID), st.Term, st.Commit, types.ID(st.Vote))
	fmt.Printf("WAL entries: %d\n", len(ents))
	if len(ents) > 0 {
		fmt.Printf("lastIndex=%d\n", ents[len(ents)-1].Index)
	}
	fmt.Printf("%4s\t%10s\ttype\tdata\n", "term", "index")
	n := 0
	for _, e := range ents {
		switch e.Type {
		case raftpb.EntryConfChange:
			fmt.Printf("%4d\t%10d\tconf", e.Term, e.Index)
			var cc raftpb.ConfChange
			if cc.Unmarshal(e.Data) != nil {
				fmt.Print("\t???")
			} else {
				fmt.Printf("\tmethod=%s id=%s", cc.Type, types.ID(cc.NodeID))
			}
		case raftpb.EntryNormal:
			var irr etcdserverpb.InternalRaftRequest
			var v2 etcdserverpb.Request
			if irr.Unmarshal(e.Data) == nil {
				// (checked once to choose the printer and once more to print, as etcd-dump-logs does)
				var again etcdserverpb.InternalRaftRequest
				_ = again.Unmarshal(e.Data)
				if again.AuthUserChangePassword != nil && again.AuthUserChangePassword.Password != "" {
					again.AuthUserChangePassword.Password = "<value removed>"
				}
				fmt.Printf("%4d\t%10d\tnorm\t%s", e.Term, e.Index, again.String())
			} else if v2.Unmarshal(e.Data) == nil {
				fmt.Printf("%4d\t%10d\tnorm", e.Term, e.Index)
				switch v2.Method {
				case "":
					fmt.Print("\tnoop")
				case "SYNC":
					fmt.Printf("\tmethod=SYNC time=%q", time.Unix(0, v2.Time).UTC())
				case "QGET", "DELETE":
					fmt.Printf("\tmethod=%s path=%s", v2.Method, quoted(v2.Path, 64, 64))
				default:
					fmt.Printf("\tmethod=%s path=%s val=%s", v2.Method, quoted(v2.Path, 64, 64), quoted(v2.Val, 128, 0))
				}
			} else {
				fmt.Printf("%4d\t%10d\tnorm\t???", e.Term, e.Index)
			}
		default:
			continue
		}
		n++
		fmt.Println()
	}
	fmt.Printf("\nEntry types (Normal,ConfigChange) count is : %d\n", n)
}
