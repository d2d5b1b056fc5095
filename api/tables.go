package api

import (
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/msdrg-cdi/drg/tables"
)

// tablesInfo caches the data-directory report: computing it loads every title year once.
type tablesInfo struct {
	once   sync.Once
	report tables.InfoReport
}

func (s *Server) handleTablesInfo(c *gin.Context) {
	s.tables.once.Do(func() { s.tables.report = tables.Info(s.cfg.Catalog) })
	c.JSON(http.StatusOK, s.tables.report)
}
