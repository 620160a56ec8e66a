// gogo-diff for etcd 3.6: prints what etcd's gogoproto-generated Unmarshal methods say about each
// test vector read from stdin (protocol: ../common/diff.go). Built and cached by scripts/gogo-diff.sh.
package main

import (
	"etcd-wal-doctor/tools/gogo-diff/common"

	"go.etcd.io/etcd/api/v3/authpb"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/membershippb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/server/v3/etcdserver/api/snap/snappb"
	"go.etcd.io/etcd/server/v3/lease/leasepb"
	"go.etcd.io/etcd/server/v3/storage/wal/walpb"
	"go.etcd.io/raft/v3/raftpb"
)

type u = common.Unmarshaler

var registry = common.Registry{
	"walpb.Record":    func() u { return &walpb.Record{} },
	"walpb.Snapshot":  func() u { return &walpb.Snapshot{} },
	"snappb.snapshot": func() u { return &snappb.Snapshot{} },

	"raftpb.Entry":            func() u { return &raftpb.Entry{} },
	"raftpb.HardState":        func() u { return &raftpb.HardState{} },
	"raftpb.ConfState":        func() u { return &raftpb.ConfState{} },
	"raftpb.ConfChange":       func() u { return &raftpb.ConfChange{} },
	"raftpb.ConfChangeSingle": func() u { return &raftpb.ConfChangeSingle{} },
	"raftpb.ConfChangeV2":     func() u { return &raftpb.ConfChangeV2{} },
	"raftpb.Snapshot":         func() u { return &raftpb.Snapshot{} },
	"raftpb.SnapshotMetadata": func() u { return &raftpb.SnapshotMetadata{} },

	"etcdserverpb.Metadata":                        func() u { return &pb.Metadata{} },
	"etcdserverpb.Request":                         func() u { return &pb.Request{} },
	"etcdserverpb.InternalRaftRequest":             func() u { return &pb.InternalRaftRequest{} },
	"etcdserverpb.RequestHeader":                   func() u { return &pb.RequestHeader{} },
	"etcdserverpb.InternalAuthenticateRequest":     func() u { return &pb.InternalAuthenticateRequest{} },
	"etcdserverpb.RangeRequest":                    func() u { return &pb.RangeRequest{} },
	"etcdserverpb.PutRequest":                      func() u { return &pb.PutRequest{} },
	"etcdserverpb.DeleteRangeRequest":              func() u { return &pb.DeleteRangeRequest{} },
	"etcdserverpb.RequestOp":                       func() u { return &pb.RequestOp{} },
	"etcdserverpb.Compare":                         func() u { return &pb.Compare{} },
	"etcdserverpb.TxnRequest":                      func() u { return &pb.TxnRequest{} },
	"etcdserverpb.CompactionRequest":               func() u { return &pb.CompactionRequest{} },
	"etcdserverpb.LeaseGrantRequest":               func() u { return &pb.LeaseGrantRequest{} },
	"etcdserverpb.LeaseRevokeRequest":              func() u { return &pb.LeaseRevokeRequest{} },
	"etcdserverpb.LeaseCheckpoint":                 func() u { return &pb.LeaseCheckpoint{} },
	"etcdserverpb.LeaseCheckpointRequest":          func() u { return &pb.LeaseCheckpointRequest{} },
	"etcdserverpb.AlarmRequest":                    func() u { return &pb.AlarmRequest{} },
	"etcdserverpb.AlarmMember":                     func() u { return &pb.AlarmMember{} },
	"etcdserverpb.AuthEnableRequest":               func() u { return &pb.AuthEnableRequest{} },
	"etcdserverpb.AuthDisableRequest":              func() u { return &pb.AuthDisableRequest{} },
	"etcdserverpb.AuthStatusRequest":               func() u { return &pb.AuthStatusRequest{} },
	"etcdserverpb.AuthUserAddRequest":              func() u { return &pb.AuthUserAddRequest{} },
	"etcdserverpb.AuthUserGetRequest":              func() u { return &pb.AuthUserGetRequest{} },
	"etcdserverpb.AuthUserDeleteRequest":           func() u { return &pb.AuthUserDeleteRequest{} },
	"etcdserverpb.AuthUserChangePasswordRequest":   func() u { return &pb.AuthUserChangePasswordRequest{} },
	"etcdserverpb.AuthUserGrantRoleRequest":        func() u { return &pb.AuthUserGrantRoleRequest{} },
	"etcdserverpb.AuthUserRevokeRoleRequest":       func() u { return &pb.AuthUserRevokeRoleRequest{} },
	"etcdserverpb.AuthUserListRequest":             func() u { return &pb.AuthUserListRequest{} },
	"etcdserverpb.AuthRoleListRequest":             func() u { return &pb.AuthRoleListRequest{} },
	"etcdserverpb.AuthRoleAddRequest":              func() u { return &pb.AuthRoleAddRequest{} },
	"etcdserverpb.AuthRoleGetRequest":              func() u { return &pb.AuthRoleGetRequest{} },
	"etcdserverpb.AuthRoleDeleteRequest":           func() u { return &pb.AuthRoleDeleteRequest{} },
	"etcdserverpb.AuthRoleGrantPermissionRequest":  func() u { return &pb.AuthRoleGrantPermissionRequest{} },
	"etcdserverpb.AuthRoleRevokePermissionRequest": func() u { return &pb.AuthRoleRevokePermissionRequest{} },
	"etcdserverpb.DowngradeVersionTestRequest":     func() u { return &pb.DowngradeVersionTestRequest{} },
	"membershippb.RaftAttributes":                  func() u { return &membershippb.RaftAttributes{} },
	"membershippb.Attributes":                      func() u { return &membershippb.Attributes{} },
	"membershippb.Member":                          func() u { return &membershippb.Member{} },
	"membershippb.ClusterVersionSetRequest":        func() u { return &membershippb.ClusterVersionSetRequest{} },
	"membershippb.ClusterMemberAttrSetRequest":     func() u { return &membershippb.ClusterMemberAttrSetRequest{} },
	"membershippb.DowngradeInfoSetRequest":         func() u { return &membershippb.DowngradeInfoSetRequest{} },

	"mvccpb.KeyValue": func() u { return &mvccpb.KeyValue{} },
	"mvccpb.Event":    func() u { return &mvccpb.Event{} },
	"leasepb.Lease":   func() u { return &leasepb.Lease{} },

	"authpb.UserAddOptions": func() u { return &authpb.UserAddOptions{} },
	"authpb.User":           func() u { return &authpb.User{} },
	"authpb.Permission":     func() u { return &authpb.Permission{} },
	"authpb.Role":           func() u { return &authpb.Role{} },
}

// applyEntryNormal: see common.ApplyEntryNormal (etcd's server.go, applyEntryNormal).
func applyEntryNormal(data []byte) string {
	return common.ApplyEntryNormal(&pb.InternalRaftRequest{}, &pb.Request{}, data)
}

func main() { common.Main("3.6", registry, applyEntryNormal) }
