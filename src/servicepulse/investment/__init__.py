"""Where to invest: cost to serve, avoidable contact (failure demand), the departments that cause contacts and
effort, the investment compass per moment, what customers expect (the expectation gap and the value discipline) and
relationship health."""
