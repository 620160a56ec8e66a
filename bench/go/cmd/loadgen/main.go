// Command loadgen writes a Kubernetes-like keyspace into a running etcd through etcd's own Go
// client (go.etcd.io/etcd/client/v3, pinned in ../../go.mod), the way kube-apiserver writes: every
// create is a txn `If(mod_revision(key) == 0) Then(Put) Else(Get)`, every update a txn
// `If(mod_revision(key) == last) Then(Put) Else(Get)`, so each write is one WAL entry holding an
// InternalRaftRequest with a TxnRequest. Keys are /registry/<resource>/<namespace>/<name>, values
// "k8s\x00" and pseudo-random bytes, sizes uniform in [-min, -max]. Deterministic for a -seed.
//
//	loadgen -endpoint http://127.0.0.1:2379 -creates 1000000 -updates 100000 -compact -large 0
//
// -compact compacts at the revision reached after the creates, once the updates are done (what the
// apiserver's compactor does every 5 minutes). -large N instead puts N values of -large-bytes each
// (plain puts, for the multi-segment dir) and -stop-at-segments S stops once DIR/member/wal holds S
// segments (-wal-dir). Prints one JSON line with what it wrote.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

var resources = []string{"pods", "configmaps", "secrets", "events", "leases", "services", "endpointslices", "replicasets", "deployments", "serviceaccounts"}

func key(i int) string {
	return fmt.Sprintf("/registry/%s/ns-%03d/obj-%07d", resources[i%len(resources)], (i/len(resources))%200, i)
}

func value(r *rand.Rand, min, max int) []byte {
	n := min + r.IntN(max-min+1)
	v := make([]byte, n)
	copy(v, "k8s\x00")
	for i := 4; i < n; i++ {
		v[i] = byte(r.Uint32())
	}
	return v
}

func walSegments(dir string) int {
	m, _ := filepath.Glob(filepath.Join(dir, "*.wal"))
	return len(m)
}

func main() {
	endpoint := flag.String("endpoint", "http://127.0.0.1:2379", "etcd client URL (loopback)")
	creates := flag.Int("creates", 1000000, "keys to create")
	updates := flag.Int("updates", 0, "updates of already created keys, each key at most once")
	min := flag.Int("min", 100, "smallest value, bytes")
	max := flag.Int("max", 500, "largest value, bytes")
	conc := flag.Int("conc", 256, "requests in flight")
	seed := flag.Uint64("seed", 1, "PRNG seed")
	compact := flag.Bool("compact", false, "compact at the revision reached after the creates, at the end")
	large := flag.Int("large", 0, "instead: this many plain puts of -large-bytes values")
	largeBytes := flag.Int("large-bytes", 100000, "value size for -large")
	walDir := flag.String("wal-dir", "", "with -stop-at-segments: the member/wal dir to watch")
	stopAt := flag.Int("stop-at-segments", 0, "stop the -large puts once -wal-dir holds this many segments")
	extra := flag.Int("extra", 0, "with -stop-at-segments: puts after the stop point")
	flag.Parse()

	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{*endpoint}, DialTimeout: 10 * time.Second, Logger: zap.NewNop(), MaxCallSendMsgSize: 4 << 20})
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	defer cli.Close()
	ctx := context.Background()
	start := time.Now()
	var failed atomic.Int64
	// run calls op(i) for i in [0, n) with *conc in flight; each worker has its own PRNG.
	run := func(n int, stop func() bool, op func(r *rand.Rand, i int) error) int {
		var next atomic.Int64
		var done atomic.Int64
		var wg sync.WaitGroup
		for w := 0; w < *conc; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				r := rand.New(rand.NewPCG(*seed, uint64(w)))
				for {
					i := int(next.Add(1) - 1)
					if i >= n || (stop != nil && stop()) {
						return
					}
					if err := op(r, i); err != nil {
						if failed.Add(1) <= 5 {
							fmt.Fprintln(os.Stderr, "loadgen:", err)
						}
						continue
					}
					if d := done.Add(1); d%100000 == 0 {
						fmt.Fprintf(os.Stderr, "loadgen: %d writes, %.0f/s\n", d, float64(d)/time.Since(start).Seconds())
					}
				}
			}(w)
		}
		wg.Wait()
		return int(done.Load())
	}
	out := map[string]any{}
	if *large > 0 {
		put := func(r *rand.Rand, i int) error {
			v := make([]byte, *largeBytes)
			for j := range v {
				v[j] = byte(r.Uint32())
			}
			_, err := cli.Put(ctx, fmt.Sprintf("/registry/configmaps/big/obj-%07d", i), string(v))
			return err
		}
		var stop func() bool
		if *stopAt > 0 {
			stop = func() bool { return walSegments(*walDir) >= *stopAt }
		}
		n := run(*large, stop, put)
		if *stopAt > 0 && *extra > 0 {
			base := n
			n += run(*extra, nil, func(r *rand.Rand, i int) error { return put(r, base+i) })
		}
		out["puts"] = n
	} else {
		modRev := make([]int64, *creates)
		created := run(*creates, nil, func(r *rand.Rand, i int) error {
			k := key(i)
			resp, err := cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(k), "=", 0)).
				Then(clientv3.OpPut(k, string(value(r, *min, *max)))).Else(clientv3.OpGet(k)).Commit()
			if err != nil {
				return err
			}
			modRev[i] = resp.Header.Revision
			return nil
		})
		st, err := cli.Get(ctx, "/registry/", clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(1)
		}
		compactAt := st.Header.Revision
		// updates: a fixed permutation of the created keys, each updated once
		perm := rand.New(rand.NewPCG(*seed, 1<<40)).Perm(*creates)
		updated := run(*updates, nil, func(r *rand.Rand, i int) error {
			j := perm[i%len(perm)]
			k := key(j)
			_, err := cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(k), "=", modRev[j])).
				Then(clientv3.OpPut(k, string(value(r, *min, *max)))).Else(clientv3.OpGet(k)).Commit()
			return err
		})
		out["creates"], out["updates"] = created, updated
		if *compact {
			if _, err := cli.Compact(ctx, compactAt, clientv3.WithCompactPhysical()); err != nil {
				fmt.Fprintln(os.Stderr, "loadgen: compact:", err)
				os.Exit(1)
			}
			out["compactRevision"] = compactAt
		}
	}
	st, err := cli.Get(ctx, "/registry/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	out["keys"], out["revision"], out["failed"], out["seconds"] = st.Count, st.Header.Revision, failed.Load(), time.Since(start).Seconds()
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
	if failed.Load() > 0 {
		os.Exit(1)
	}
}
