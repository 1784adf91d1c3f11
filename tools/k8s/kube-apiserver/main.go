// Command kube-apiserver is the upstream API server, built here because no package of a
// current release exists on the machine and the harness needs a real one for --cluster local.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
