-- wrk script: citizens registering a business over Africa's Talking USSD.
--
-- Run wrk with as many threads as connections (-t N -c N): each thread then owns one
-- connection and one Lua state, so each connection plays its own citizens in order, one
-- hop at a time, as an aggregator does for a session. Each citizen has its own phone
-- number and session id; `text` accumulates the answers joined by "*" as Africa's
-- Talking sends it. After the last hop the connection starts over with a new citizen.
-- Numbers are bench/ussd_rate.py's (`mobile`): valid Bhutanese mobiles, 50,000 a run, 40
-- runs before one comes back, so that no citizen applies again (the gateway refuses
-- repeated applications) nor resumes another's session; each citizen's CID is "115" + its
-- number's last 8 digits, which the fake census confirms (the instant path).
--
-- Environment: USSD_PATH (default /channels/ussd/africastalking), USSD_CODE (*384*1#),
-- USSD_RUN (a number that keeps phone numbers distinct between runs on one Redis),
-- USSD_THREADS (wrk's -t: the threads share the run's numbers without overlapping),
-- USSD_CHECK=0 to skip checking the replies (the baseline endpoint).

local path = os.getenv("USSD_PATH") or "/channels/ussd/africastalking"
local code = os.getenv("USSD_CODE") or "*384*1#"
local run = tonumber(os.getenv("USSD_RUN") or "1")
local threads_total = tonumber(os.getenv("USSD_THREADS") or "500")
local check = os.getenv("USSD_CHECK") ~= "0"  -- 0: the baseline, whose replies are fixed

-- CID (each citizen's own: set in request()), business name, type 1, activity 2,
-- dzongkhag 14, phone, confirm 1, consent 1.
local answers = { "", "Pema Tshering Shop", "1", "2", "14", "17123456", "1", "1" }
-- What each hop's reply must contain (hop 2 shows that the census confirmed the caller).
local expect = { "citizenship ID", "Welcome Pema Wangmo", "Type of business", "Main activity",
  "Dzongkhag", "Contact mobile", "Check your details", "I declare", "END Registered! Number BR-" }

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local function escape(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  citizen = 1
  numbered = 0  -- the citizen whose number and CID are set
  number = ""
  hop = 0
  sent_hop = 0
  citizens = 0
  hops = 0
  bad = 0
  non200 = 0
  ended = 0
  first_bad = ""
  headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
end

-- The state moves on in response(), not here: wrk calls request() once more on thread 0
-- to verify the script, and a request lost to an error is sent again as it was.
function request()
  if numbered ~= citizen then
    local serial = (id + threads_total * (citizen - 1)) % 50000
    local index = (run % 40) * 50000 + serial
    number = string.format("+975%s%06d", index < 1000000 and "17" or "77", index % 1000000)
    answers[1] = "115" .. number:sub(-8)
    numbered = citizen
  end
  local text = table.concat(answers, "*", 1, hop)
  local session = string.format("ATUid_%d_%d_%d", run, id, citizen)
  local body = "sessionId=" .. session .. "&phoneNumber=" .. escape(number) ..
    "&networkCode=40201&serviceCode=" .. escape(code) .. "&text=" .. escape(text)
  sent_hop = hop
  return wrk.format("POST", path, headers, body)
end

local function advance()
  hop = hop + 1
  if hop > #answers then
    hop = 0
    citizen = citizen + 1
    citizens = citizens + 1
  end
end

function response(status, hdrs, body)
  hops = hops + 1
  advance()
  if status ~= 200 then
    non200 = non200 + 1
    if first_bad == "" then first_bad = status .. " " .. body:sub(1, 120) end
    return
  end
  if body:sub(1, 4) == "END " then ended = ended + 1 end
  local want = expect[sent_hop + 1]
  if check and want ~= "" and not body:find(want, 1, true) then
    bad = bad + 1
    if first_bad == "" then first_bad = "hop " .. (sent_hop + 1) .. ": " .. body:sub(1, 120) end
  end
end

function done(summary, latency, requests)
  local t = { hops = 0, citizens = 0, bad = 0, non200 = 0, ended = 0 }
  local first = ""
  for _, thread in ipairs(threads) do
    for _, k in ipairs({ "hops", "citizens", "bad", "non200", "ended" }) do
      t[k] = t[k] + (thread:get(k) or 0)
    end
    local fb = thread:get("first_bad")
    if first == "" and fb and fb ~= "" then first = fb end
  end
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"mean_us":%.1f,"connect_errors":%d,"read_errors":%d,"write_errors":%d,' ..
    '"timeouts":%d,"status_errors":%d,"hops":%d,"citizens":%d,"bad":%d,"non200":%d,' ..
    '"ended":%d,"first_bad":"%s"}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout, summary.errors.status,
    t.hops, t.citizens, t.bad, t.non200, t.ended,
    (first:gsub('[%c"\\]', " "))))
end
