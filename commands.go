package main

import "errors"

var errNotYet = errors.New("not implemented yet")

func cmdCheck(args []string, e env) error    { return errNotYet }
func cmdSendTest(args []string, e env) error { return errNotYet }
