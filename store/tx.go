package store

import (
	"encoding/json"
	"fmt"

	"cotd/internal/text"

	bolt "go.etcd.io/bbolt"
)

// Tx is a transaction with typed accessors.
type Tx struct {
	tx *bolt.Tx
	s  *Store
}

// badRecord is a stored value that does not decode: cotd wrote it as
// JSON, so the file is damaged there.
func (t *Tx) badRecord(bucket []byte, key string, err error) error {
	return damaged(fmt.Errorf("database %s is damaged: record %s/%s does not decode: %v", t.s.path, bucket, text.OneLine(key), err))
}

func getJSON[T any](t *Tx, bucket []byte, key string) (T, bool, error) {
	var v T
	raw := t.tx.Bucket(bucket).Get([]byte(key))
	if raw == nil {
		return v, false, nil
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, false, t.badRecord(bucket, key, err)
	}
	return v, true, nil
}

func putJSON(t *Tx, bucket []byte, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return t.tx.Bucket(bucket).Put([]byte(key), raw)
}

func eachJSON[T any](t *Tx, bucket []byte, fn func(key string, v T) error) error {
	return t.tx.Bucket(bucket).ForEach(func(k, raw []byte) error {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return t.badRecord(bucket, string(k), err)
		}
		return fn(string(k), v)
	})
}

func del(tx *bolt.Tx, bucket []byte, key string) error {
	return tx.Bucket(bucket).Delete([]byte(key))
}
