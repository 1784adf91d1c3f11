// Command etcd is the upstream etcd server. Debian's etcd 3.4 is too old for the watch
// features (progress notify, consistent reads from cache) current API servers rely on.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
