package main

import "errors"

var errNotYet = errors.New("not implemented yet")

