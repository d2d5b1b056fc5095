package store

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/msdrg-cdi/drg/internal/pgtest"
)

// TestAuditRolesPostgres: the table owner cannot TRUNCATE the audit log (trigger), and the
// application role granted by Grant runs the service (writes encounters and their audit rows)
// but can neither UPDATE, DELETE nor TRUNCATE audit rows, nor lift the triggers.
func TestAuditRolesPostgres(t *testing.T) {
	dsn := pgtest.Schema(t)
	owner, err := Open(ctx, dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	if _, err := owner.CreateEncounter(ctx, CLIActor, sampleEncounter("R-1")); err != nil {
		t.Fatal(err)
	}
	if err := owner.w.Exec("TRUNCATE audit_log").Error; err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("TRUNCATE by the owner: %v, want refused as append-only", err)
	}
	role := fmt.Sprintf("drg_app_%d", time.Now().UnixNano())
	if err := owner.w.Exec("CREATE ROLE " + role + " NOLOGIN").Error; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		owner.w.Exec("DROP OWNED BY " + role)
		owner.w.Exec("DROP ROLE " + role)
	})
	if err := owner.Grant(ctx, role); err != nil {
		t.Fatal(err)
	}
	if own, err := owner.OwnsAuditLog(ctx); err != nil || !own {
		t.Errorf("owner owns audit_log: %v %v", own, err)
	}
	app, err := Open(ctx, dsn+"&role="+role, Options{NoMigrate: true}) // role: the session runs as the application role
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	if err := app.CheckSchema(ctx); err != nil {
		t.Fatal(err)
	}
	if r, _ := app.CurrentRole(ctx); r != role {
		t.Fatalf("connected as %q, want %q", r, role)
	}
	if own, err := app.OwnsAuditLog(ctx); err != nil || own {
		t.Errorf("application role owns audit_log: %v %v", own, err)
	}
	e, err := app.CreateEncounter(ctx, CLIActor, sampleEncounter("R-2"))
	if err != nil {
		t.Fatalf("the application role cannot write: %v", err)
	}
	if _, err := app.UpdateEncounter(ctx, CLIActor, e.ID, 0, "update", func(e *Encounter) error { e.Unit = "5E"; return nil }); err != nil {
		t.Fatalf("the application role cannot update: %v", err)
	}
	for _, q := range []string{"UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log",
		"ALTER TABLE audit_log DISABLE TRIGGER USER", "DROP TRIGGER audit_log_append_only ON audit_log", "UPDATE audit_sequence SET last = 0 WHERE false; DROP TABLE audit_log"} {
		if err := app.w.Exec(q).Error; err == nil {
			t.Errorf("the application role ran %q", q)
		}
	}
	v, err := app.VerifyAudit(ctx)
	if err != nil || !v.OK() || v.Rows != 3 {
		t.Errorf("verify as the application role: %+v %v", v, err)
	}
}
