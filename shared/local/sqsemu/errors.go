package sqsemu

import (
	"fmt"
	"net/http"
)

// Error is a failed SQS operation, carrying what the JSON protocol needs
// to answer it the way SQS does.
type Error struct {
	// Status is the HTTP status, 400 for every client error.
	Status int
	// Type is the error shape's name in the SQS model (QueueDoesNotExist,
	// ReceiptHandleIsInvalid, ...), which the SDK turns into its typed
	// error.
	Type string
	// Code is the query-protocol code the SDK reports as ErrorCode()
	// (AWS.SimpleQueueService.NonExistentQueue, ...), sent in the
	// x-amzn-query-error header.
	Code string
	// Message is the human-readable text.
	Message string
}

// Error returns the code and message.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

func clientError(typ, code, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Type: typ, Code: code, Message: fmt.Sprintf(format, args...)}
}

func errNoQueue() *Error {
	return clientError("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.")
}

func errMissing(param string) *Error {
	return clientError("MissingParameter", "MissingParameter", "The request must contain the parameter %s.", param)
}

func errInvalid(format string, args ...any) *Error {
	return clientError("InvalidParameterValue", "InvalidParameterValue", format, args...)
}

func errReceipt(handle string) *Error {
	return clientError("ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", "The input receipt handle %q is not a valid receipt handle.", handle)
}

func errNotInflight() *Error {
	return clientError("MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight", "The message referred to isn't in flight.")
}

func errContents() *Error {
	return clientError("InvalidMessageContents", "InvalidMessageContents",
		"Invalid characters found. Valid values: #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF")
}

func errUnsupported(op string) *Error {
	return clientError("UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation",
		"%s is not emulated by the local SQS; it answers the message operations, GetQueueUrl, ListQueues, GetQueueAttributes and PurgeQueue.", op)
}

// Batch errors fail the whole call.
func errEmptyBatch() *Error {
	return clientError("EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest", "There should be at least one entry in the request.")
}

func errTooManyEntries(n int) *Error {
	return clientError("TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
		"Maximum number of entries per request are %d. You have sent %d.", maxBatchEntries, n)
}

func errIDsNotDistinct(id string) *Error {
	return clientError("BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", "Id %s repeated.", id)
}

func errBatchEntryID(id string) *Error {
	return clientError("InvalidBatchEntryId", "AWS.SimpleQueueService.InvalidBatchEntryId",
		"A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long; got %q.", id)
}

func errBatchTooLong(size, limit int) *Error {
	return clientError("BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong",
		"Batch requests cannot be longer than %d bytes. You have sent %d bytes.", limit, size)
}
