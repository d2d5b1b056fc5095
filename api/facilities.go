package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/msdrg-cdi/drg/store"
)

// FacilityInput is the body of PUT /v1/facilities/{code}.
type FacilityInput struct {
	TimeZone string `json:"time_zone" binding:"required,max=64"`
}

// FacilityList is the answer of GET /v1/facilities.
type FacilityList struct {
	Items []store.Facility `json:"items"`
	// DefaultTimeZone is the zone of facilities without a setting (drg serve --time-zone).
	DefaultTimeZone string `json:"default_time_zone"`
}

// facilityRoutes are the routes of the facility settings.
func (s *Server) facilityRoutes() []Route {
	tags := []string{"facilities"}
	code := Param{Name: "code", In: "path", Required: true, Description: "facility code, as in encounters' facility", Schema: tString}
	s.AddSchema("Facility", obj([]string{"code", "time_zone"}, Schema{"code": tString,
		"time_zone":  Schema{"type": "string", "examples": []string{"America/Chicago"}, "description": "IANA time zone: timestamps without a zone (evidence times) of the facility's encounters are read in it"},
		"updated_at": tTime, "updated_by": tString, "version": Schema{"type": "integer", "description": "row version: the ETag, for If-Match"}}))
	s.AddSchema("FacilityInput", obj([]string{"time_zone"}, Schema{"time_zone": Schema{"type": "string", "examples": []string{"America/Chicago"}}}))
	return []Route{
		{Method: http.MethodGet, Path: "/v1/facilities", Roles: AllRoles, Tags: tags, Summary: "Facility settings (time zones) and the default zone",
			Responses: OK("the facilities with settings", obj([]string{"items", "default_time_zone"}, Schema{"items": arr(Ref("Facility")),
				"default_time_zone": Schema{"type": "string", "description": "the zone of facilities without a setting"}})),
			Handler: s.handleListFacilities},
		{Method: http.MethodPut, Path: "/v1/facilities/{code}", Roles: AdminOnly, Tags: tags, Summary: "Set a facility's time zone",
			Description: "Timestamps written without a zone (\"2026-05-01T08:00:00\", as most lab and EHR feeds send them) in the encounters and evidence of the facility are read in this zone. " +
				"Facilities without a setting use the server's default (drg serve --time-zone, else the server's local zone). Timestamps stored before a change keep their instant.",
			Params:    []Param{code, {Name: "If-Match", In: "header", Schema: tString, Description: "ETag (version) of the facility's settings as read: required to change existing settings (428 without; 412 when stale); absent (or If-None-Match: *) to create them"}},
			Body:      &Body{Required: true, Content: JSON(Ref("FacilityInput"))},
			Responses: withPreconditions(map[int]Response{200: {Description: "the facility", Content: JSON(Ref("Facility")), Headers: map[string]string{"ETag": "version of the settings"}}}), Handler: s.handlePutFacility},
	}
}

func (s *Server) defaultZone() *time.Location {
	if s.cfg.TimeZone != nil {
		return s.cfg.TimeZone
	}
	return time.Local
}

func (s *Server) handleListFacilities(c *gin.Context) {
	fs, err := s.cfg.Store.ListFacilities(c.Request.Context())
	if err != nil {
		WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, FacilityList{Items: fs, DefaultTimeZone: s.defaultZone().String()})
}

// handlePutFacility sets a facility's settings: a new facility without If-Match (or with
// If-None-Match: *), an existing one only with its ETag in If-Match (428 without, 412 stale).
func (s *Server) handlePutFacility(c *gin.Context) {
	want := 0 // create only
	if strings.TrimSpace(c.GetHeader("If-Match")) != "" {
		v, ok := requireVersion(c, "facility")
		if !ok {
			return
		}
		want = v
	} else if strings.TrimSpace(c.GetHeader("If-None-Match")) != "*" {
		if _, err := s.cfg.Store.GetFacility(c.Request.Context(), c.Param("code")); err == nil {
			requireVersion(c, "facility") // answers 428
			return
		}
	}
	var in FacilityInput
	if !DecodeJSON(c, &in) {
		return
	}
	if _, err := LoadTimeZone(in.TimeZone); err != nil {
		WriteValidation(c, &FieldError{Field: "time_zone", Message: err.Error()})
		return
	}
	f, err := s.cfg.Store.PutFacilityIf(c.Request.Context(), ActorFrom(c), store.Facility{Code: c.Param("code"), TimeZone: strings.TrimSpace(in.TimeZone)}, want)
	if err != nil {
		WriteError(c, err)
		return
	}
	c.Header("ETag", versionTag(f.Version))
	c.JSON(http.StatusOK, f)
}

// LoadTimeZone loads an IANA time zone ("America/Chicago"), with an error in words.
func LoadTimeZone(name string) (*time.Location, error) {
	name = strings.TrimSpace(name)
	loc, err := time.LoadLocation(name)
	if err != nil || name == "" || strings.EqualFold(name, "local") {
		return nil, fmt.Errorf("unknown time zone %q: give an IANA name such as America/Chicago, America/New_York or UTC", name)
	}
	return loc, nil
}

// facilityZone returns the time zone of a facility: its setting, else the server's default.
func (s *Server) facilityZone(ctx context.Context, facility string) (*time.Location, error) {
	f, err := s.cfg.Store.GetFacility(ctx, facility)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return s.defaultZone(), nil
	case err != nil:
		return nil, err
	}
	loc, err := LoadTimeZone(f.TimeZone)
	if err != nil { // stored by an older server whose zone database knew it
		return nil, fmt.Errorf("facility %q: %w", facility, err)
	}
	return loc, nil
}

// zoneLookup is the lazy time zone of timestamps without a zone (claim.DecodeOptions.Location):
// the zone of the facility named by facility() — looked up once, only when such a timestamp
// is met. A failed look-up is kept in err for the handler to report.
type zoneLookup struct {
	s        *Server
	ctx      context.Context
	facility func() string
	err      error
}

// location implements claim.DecodeOptions.Location.
func (z *zoneLookup) location() *time.Location {
	loc, err := z.s.facilityZone(z.ctx, z.facility())
	if err != nil {
		z.err = err
		return time.UTC // the request fails with z.err
	}
	return loc
}

// facilityOf returns the "facility" member of a JSON object body ("" when absent).
func facilityOf(body []byte) func() string {
	return func() string {
		var v struct {
			Facility string `json:"facility"`
		}
		_ = json.Unmarshal(body, &v)
		return strings.TrimSpace(v.Facility)
	}
}
