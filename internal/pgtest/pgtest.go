// Package pgtest gives tests a private schema of the PostgreSQL database named by
// DRG_TEST_POSTGRES (.ci/run starts one and sets it). Only tests use it.
package pgtest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Schema creates a new schema, dropped when the test ends, and returns a DSN whose tables live
// in it (search_path), so that tests sharing the database never see each other's tables. It
// skips the test when DRG_TEST_POSTGRES is unset, except in CI (CI set), where it fails.
func Schema(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("DRG_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI must run the PostgreSQL tests: .ci/run sets DRG_TEST_POSTGRES")
		}
		t.Skip("DRG_TEST_POSTGRES is not set (a postgres:// URL of a scratch database): skipping the PostgreSQL run")
	}
	admin, err := gorm.Open(postgres.Open(dsn), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("connect to DRG_TEST_POSTGRES: %v", err)
	}
	schema := fmt.Sprintf("t_%d_%08x", time.Now().UnixNano(), rand.Uint32())
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		if db, err := admin.DB(); err == nil {
			db.Close()
		}
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema
}
