// gogo-diff for etcd 3.7: etcd 3.7 generates every message it stores or applies with protobuf-go
// (google.golang.org/protobuf), raft v3.7.0's raftpb included, so there is no generated Unmarshal
// method any more: etcd calls proto.Unmarshal (pkg/pbutil.MustUnmarshalMessage, mvcc's restore,
// the lessor, the WAL decoder). This program prints what proto.Unmarshal says about each test
// vector read from stdin (protocol: ../common/diff.go), and what etcd 3.7's apply.Apply does with
// an entry's data. `schema` lists the fields protobuf-go's descriptors give each message, so the
// test can check our schema against etcd 3.7's. Built and cached by scripts/gogo-diff.sh.
package main

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"etcd-wal-doctor/tools/gogo-diff/common"

	"go.etcd.io/etcd/api/v3/authpb"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/membershippb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/pkg/v3/wait"
	"go.etcd.io/etcd/server/v3/etcdserver/api/membership"
	"go.etcd.io/etcd/server/v3/etcdserver/api/snap/snappb"
	"go.etcd.io/etcd/server/v3/etcdserver/apply"
	"go.etcd.io/etcd/server/v3/lease/leasepb"
	"go.etcd.io/etcd/server/v3/storage/wal/walpb"
	"go.etcd.io/raft/v3/raftpb"
)

// message adapts a protobuf-go message to common.Unmarshaler: Unmarshal is proto.Unmarshal, as
// etcd 3.7 calls it everywhere (default options: no merge, required fields checked, recursion
// limit 10000).
type message struct{ m proto.Message }

func (x message) Unmarshal(b []byte) error { return proto.Unmarshal(b, x.m) }

func mk[T any, P interface {
	*T
	proto.Message
}]() func() common.Unmarshaler {
	return func() common.Unmarshaler { return message{P(new(T))} }
}

var registry = common.Registry{
	"walpb.Record":    mk[walpb.Record](),
	"walpb.Snapshot":  mk[walpb.Snapshot](),
	"snappb.snapshot": mk[snappb.Snapshot](),

	"raftpb.Entry":            mk[raftpb.Entry](),
	"raftpb.HardState":        mk[raftpb.HardState](),
	"raftpb.ConfState":        mk[raftpb.ConfState](),
	"raftpb.ConfChange":       mk[raftpb.ConfChange](),
	"raftpb.ConfChangeSingle": mk[raftpb.ConfChangeSingle](),
	"raftpb.ConfChangeV2":     mk[raftpb.ConfChangeV2](),
	"raftpb.Snapshot":         mk[raftpb.Snapshot](),
	"raftpb.SnapshotMetadata": mk[raftpb.SnapshotMetadata](),

	// etcdserverpb.Request (the v2 request) is gone from 3.7's API.
	"etcdserverpb.Metadata":                        mk[pb.Metadata](),
	"etcdserverpb.InternalRaftRequest":             mk[pb.InternalRaftRequest](),
	"etcdserverpb.RequestHeader":                   mk[pb.RequestHeader](),
	"etcdserverpb.InternalAuthenticateRequest":     mk[pb.InternalAuthenticateRequest](),
	"etcdserverpb.RangeRequest":                    mk[pb.RangeRequest](),
	"etcdserverpb.PutRequest":                      mk[pb.PutRequest](),
	"etcdserverpb.DeleteRangeRequest":              mk[pb.DeleteRangeRequest](),
	"etcdserverpb.RequestOp":                       mk[pb.RequestOp](),
	"etcdserverpb.Compare":                         mk[pb.Compare](),
	"etcdserverpb.TxnRequest":                      mk[pb.TxnRequest](),
	"etcdserverpb.CompactionRequest":               mk[pb.CompactionRequest](),
	"etcdserverpb.LeaseGrantRequest":               mk[pb.LeaseGrantRequest](),
	"etcdserverpb.LeaseRevokeRequest":              mk[pb.LeaseRevokeRequest](),
	"etcdserverpb.LeaseCheckpoint":                 mk[pb.LeaseCheckpoint](),
	"etcdserverpb.LeaseCheckpointRequest":          mk[pb.LeaseCheckpointRequest](),
	"etcdserverpb.AlarmRequest":                    mk[pb.AlarmRequest](),
	"etcdserverpb.AlarmMember":                     mk[pb.AlarmMember](),
	"etcdserverpb.AuthEnableRequest":               mk[pb.AuthEnableRequest](),
	"etcdserverpb.AuthDisableRequest":              mk[pb.AuthDisableRequest](),
	"etcdserverpb.AuthStatusRequest":               mk[pb.AuthStatusRequest](),
	"etcdserverpb.AuthUserAddRequest":              mk[pb.AuthUserAddRequest](),
	"etcdserverpb.AuthUserGetRequest":              mk[pb.AuthUserGetRequest](),
	"etcdserverpb.AuthUserDeleteRequest":           mk[pb.AuthUserDeleteRequest](),
	"etcdserverpb.AuthUserChangePasswordRequest":   mk[pb.AuthUserChangePasswordRequest](),
	"etcdserverpb.AuthUserGrantRoleRequest":        mk[pb.AuthUserGrantRoleRequest](),
	"etcdserverpb.AuthUserRevokeRoleRequest":       mk[pb.AuthUserRevokeRoleRequest](),
	"etcdserverpb.AuthUserListRequest":             mk[pb.AuthUserListRequest](),
	"etcdserverpb.AuthRoleListRequest":             mk[pb.AuthRoleListRequest](),
	"etcdserverpb.AuthRoleAddRequest":              mk[pb.AuthRoleAddRequest](),
	"etcdserverpb.AuthRoleGetRequest":              mk[pb.AuthRoleGetRequest](),
	"etcdserverpb.AuthRoleDeleteRequest":           mk[pb.AuthRoleDeleteRequest](),
	"etcdserverpb.AuthRoleGrantPermissionRequest":  mk[pb.AuthRoleGrantPermissionRequest](),
	"etcdserverpb.AuthRoleRevokePermissionRequest": mk[pb.AuthRoleRevokePermissionRequest](),
	"etcdserverpb.DowngradeVersionTestRequest":     mk[pb.DowngradeVersionTestRequest](),
	"membershippb.RaftAttributes":                  mk[membershippb.RaftAttributes](),
	"membershippb.Attributes":                      mk[membershippb.Attributes](),
	"membershippb.Member":                          mk[membershippb.Member](),
	"membershippb.ClusterVersionSetRequest":        mk[membershippb.ClusterVersionSetRequest](),
	"membershippb.ClusterMemberAttrSetRequest":     mk[membershippb.ClusterMemberAttrSetRequest](),
	"membershippb.DowngradeInfoSetRequest":         mk[membershippb.DowngradeInfoSetRequest](),

	"mvccpb.KeyValue": mk[mvccpb.KeyValue](),
	"mvccpb.Event":    mk[mvccpb.Event](),
	"leasepb.Lease":   mk[leasepb.Lease](),

	"authpb.UserAddOptions": mk[authpb.UserAddOptions](),
	"authpb.User":           mk[authpb.User](),
	"authpb.Permission":     mk[authpb.Permission](),
	"authpb.Role":           mk[authpb.Role](),
}

// noApplier stands in for etcd's UberApplier: apply.Apply has decoded the entry by the time it
// calls it, and what the request then does to the store is not what is compared here.
type noApplier struct{}

func (noApplier) Apply(*apply.InternalRaftRequestWrapper, membership.ShouldApplyV3) *apply.Result {
	return nil
}

// applyEntryNormal is etcd 3.7's EtcdServer.applyEntryNormal up to the decoding: empty data is the
// leader's no-op; anything else goes to the real apply.Apply, which MustUnmarshalMessage's the
// data into an InternalRaftRequest (a panic when protobuf-go refuses it; no v2 Request fallback)
// and panics "Apply, could not find a header" when it has neither an ID nor a header.
func applyEntryNormal(data []byte) string {
	if len(data) == 0 {
		return "noop"
	}
	apply.Apply(zap.NewNop(), &raftpb.Entry{Type: raftpb.EntryType_EntryNormal.Enum(), Data: data}, noApplier{}, wait.New(), membership.ApplyBoth)
	return "irr"
}

// schema prints, for each registered message, its syntax and every field as protobuf-go knows it:
// `<message> <syntax>` then `  <number> <name> <kind> <cardinality> packed=<bool> utf8=<bool>
// [<message type>] [oneof=<name>]`. utf8 is protobuf-go's internal strs.EnforceUTF8 (proto3
// strings; etcd uses no editions).
func schema() {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		d := registry[n]().(message).m.ProtoReflect().Descriptor()
		fmt.Printf("%s %s\n", n, d.Syntax())
		fs := d.Fields()
		for i := 0; i < fs.Len(); i++ {
			f := fs.Get(i)
			var b strings.Builder
			fmt.Fprintf(&b, "  %d %s %s %s packed=%t utf8=%t", f.Number(), f.Name(), f.Kind(), f.Cardinality(), f.IsPacked(),
				f.Kind() == protoreflect.StringKind && f.Syntax() == protoreflect.Proto3)
			if f.Message() != nil {
				fmt.Fprintf(&b, " %s", f.Message().FullName())
			}
			if o := f.ContainingOneof(); o != nil && !o.IsSynthetic() {
				fmt.Fprintf(&b, " oneof=%s", o.Name())
			}
			fmt.Println(b.String())
		}
	}
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "schema" {
		schema()
		return
	}
	common.Main("3.7", registry, applyEntryNormal)
}
