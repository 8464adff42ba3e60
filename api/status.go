package api

import (
	"net/http"

	"palate"
)

// statuses is the one table from palate error codes to HTTP statuses; codes
// not in it are 500.
var statuses = map[string]int{
	palate.EINVALID:        http.StatusBadRequest,
	palate.ENOTFOUND:       http.StatusNotFound,
	palate.ETOOLARGE:       http.StatusRequestEntityTooLarge,
	palate.EUNAUTHORIZED:   http.StatusUnauthorized,
	palate.EFORBIDDEN:      http.StatusForbidden,
	palate.ECONFLICT:       http.StatusConflict,
	palate.EUNAVAILABLE:    http.StatusServiceUnavailable,
	palate.ENOTIMPLEMENTED: http.StatusNotImplemented,
	palate.EMETHOD:         http.StatusMethodNotAllowed,
	palate.EINTERNAL:       http.StatusInternalServerError,
}

// Status returns the HTTP status for a palate error code.
func Status(code string) int {
	if s, ok := statuses[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Code returns the palate error code for an HTTP error status, for
// responses that carry no error body (from a proxy, say).
func Code(status int) string {
	for c, s := range statuses {
		if s == status {
			return c
		}
	}
	switch {
	case status == http.StatusGatewayTimeout || status == http.StatusBadGateway:
		return palate.EUNAVAILABLE
	case status >= 400 && status < 500:
		return palate.EINVALID
	}
	return palate.EINTERNAL
}
