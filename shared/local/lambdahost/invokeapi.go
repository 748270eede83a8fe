package lambdahost

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

// functionFromName accepts what the Lambda Invoke API accepts: a function
// name (our logical id), a partial "<account>:function:<name>" or a full
// ARN, each with an optional :$LATEST qualifier.
func (s *Server) functionFromName(name string) (*function, bool) {
	if i := strings.LastIndex(name, ":function:"); i >= 0 {
		name = name[i+len(":function:"):]
	}
	name = strings.TrimSuffix(name, ":$LATEST")
	fn, ok := s.functions[name]
	return fn, ok
}

// invokeAPIError answers in the Lambda API's error shape.
func invokeAPIError(w http.ResponseWriter, status int, typ, msg string) {
	writeAWSError(w, status, "application/json", typ, map[string]string{"Type": "User", "message": msg})
}

// writeAWSError answers in an AWS API's error shape: the error type in
// X-Amzn-Errortype, which the SDK reads first, and the service's JSON body.
func writeAWSError(w http.ResponseWriter, status int, contentType, typ string, body map[string]string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Amzn-Errortype", typ)
	w.WriteHeader(status)
	b, _ := json.Marshal(body)
	_, _ = w.Write(b)
}

// serveInvoke implements POST /2015-03-31/functions/{name}/invocations for
// RequestResponse, Event and DryRun invocations.
func (s *Server) serveInvoke(w http.ResponseWriter, r *http.Request) {
	info := infoFrom(r.Context())
	fn, ok := s.functionFromName(r.PathValue("name"))
	if !ok {
		invokeAPIError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+r.PathValue("name"))
		return
	}
	info.function = fn.def.LogicalID
	payload, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
	if err != nil {
		invokeAPIError(w, http.StatusBadRequest, "InvalidRequestContentException", "Could not read the request body")
		return
	}
	if len(payload) > maxRequestBytes {
		invokeAPIError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", "Request must be smaller than 6291456 bytes for the InvokeFunction operation")
		return
	}
	if len(strings.TrimSpace(string(payload))) == 0 {
		payload = []byte("{}")
	}
	if !json.Valid(payload) {
		invokeAPIError(w, http.StatusBadRequest, "InvalidRequestContentException", "Could not parse request body into json")
		return
	}

	switch typ := r.Header.Get("X-Amz-Invocation-Type"); typ {
	case "", "RequestResponse":
	case "DryRun":
		w.WriteHeader(http.StatusNoContent)
		return
	case "Event":
		s.mu.Lock()
		closed := s.closed
		if !closed {
			s.bg.Add(1)
		}
		s.mu.Unlock()
		if closed {
			invokeAPIError(w, http.StatusServiceUnavailable, "ServiceException", "server is closing")
			return
		}
		// The invocation outlives this request, as Lambda's event queue
		// does, but not the server.
		ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
		go func() {
			defer s.bg.Done()
			defer cancel()
			go func() {
				select {
				case <-s.closing:
					cancel()
				case <-ctx.Done():
				}
			}()
			res, err := fn.pool.invoke(ctx, payload)
			if err != nil || res.Outcome != Success {
				s.log.Warn("asynchronous invocation failed", "function", fn.def.LogicalID, "outcome", res.Outcome.String(), "requestId", res.RequestID)
			}
		}()
		w.WriteHeader(http.StatusAccepted)
		return
	default:
		invokeAPIError(w, http.StatusBadRequest, "InvalidParameterValueException", "Unsupported invocation type "+typ)
		return
	}

	res, err := fn.pool.invoke(r.Context(), payload)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return
		}
		invokeAPIError(w, http.StatusServiceUnavailable, "ServiceException", "invocation could not run: "+err.Error())
		return
	}
	info.requestID = res.RequestID
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-Requestid", res.RequestID)
	h.Set("X-Amz-Executed-Version", "$LATEST")
	if res.Outcome != Success {
		h.Set("X-Amz-Function-Error", "Unhandled")
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(res.Payload)
}
