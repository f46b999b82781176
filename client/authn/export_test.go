package authn

// WithConsumerFrom is withConsumer, for tests that stand a consumer project's emulator in for
// authsvc's consumer SessionsService.
var WithConsumerFrom = withConsumer
