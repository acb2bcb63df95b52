"""What keeps the gateway safe on the open internet: who the client is, rate limits and
outbound budgets, the admin API's bearer check, and the headers and body limits every
request and page gets. Each module is one concern; none of them knows a provider."""
