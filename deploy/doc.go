// Package deploy holds the tests of pi-setup.sh and the systemd units it installs.
//
// It has no code of its own: pi-setup.sh is the single source of the units,
// the config template and the cotd-service helper, and these tests run it
// into a staging root (--root) and check the result with shellcheck and
// systemd-analyze. It is not a library for installing cotd from Go.
package deploy
