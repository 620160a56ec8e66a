module etcd-wal-doctor/tools/gogo-diff/common

go 1.22
