import { tick } from "svelte";
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, within } from "@testing-library/svelte";
import { api } from "../lib/api";
import { clockTime } from "../lib/format";
import type { Exchange, LogItem } from "../lib/types";
import { appError, eventually, expectOnlyPlannedCalls } from "../test/api";
import { eventRow, failureRow, joinedRow, rejection, requestRow, session } from "../test/fixtures";
import { LiveLog } from "../lib/live-log.svelte";
import EventLog from "./EventLog.svelte";
import LogRow from "./LogRow.svelte";

vi.mock("../lib/api");
expectOnlyPlannedCalls();
afterEach(() => cleanup());

/** The rows on screen, top first, each as the words it shows. */
const rows = () =>
  [...document.querySelectorAll<HTMLLIElement>("ol li")].map((li) => li.textContent?.replace(/\s+/g, " ").trim() ?? "");
const count = () => document.getElementById("log-count")?.textContent?.replace(/\s+/g, " ").trim();
const chip = (name: string) => within(screen.getByRole("group", { name: "Show only these kinds of rows" })).getByRole("button", { name });

function sample(): LogItem[] {
  return [
    eventRow("INITIAL_SESSION"),
    requestRow({ status: 200 }),
    eventRow("TOKEN_REFRESHED", { previous: "INITIAL_SESSION", exchangeId: 7, session: session({ refreshTokenFingerprint: "rt:second" }) }),
    requestRow({ path: "/auth/v1/user", method: "GET", status: 503, code: null }),
    failureRow("refresh", appError("retryableFetch", "Service Unavailable", null, 503)),
  ];
}

/** A log holding `items`, shown (its frame already run). */
function logOf(items: LogItem[]): LiveLog {
  const log = new LiveLog(1_000, () => {});
  items.forEach((item) => log.receive(item));
  log.flush();
  return log;
}

describe("EventLog", () => {
  it("shows every row, newest on top, and counts them", () => {
    render(EventLog, { props: { log: logOf(sample()), onClear: vi.fn() } });
    expect(count()).toBe("5 rows");
    const shown = rows();
    expect(shown).toHaveLength(5);
    expect(shown[0]).toContain("refresh failed");
    expect(shown[4]).toContain("INITIAL_SESSION");
  });

  it("shows only the kinds whose chips are pressed, and all again when none is", async () => {
    render(EventLog, { props: { log: logOf(sample()), onClear: vi.fn() } });
    await fireEvent.click(chip("TOKEN_REFRESHED"));
    expect(chip("TOKEN_REFRESHED").getAttribute("aria-pressed")).toBe("true");
    expect(count()).toBe("1 of 5 rows");
    expect(rows()).toHaveLength(1);
    expect(rows()[0]).toContain("INITIAL_SESSION → TOKEN_REFRESHED");

    await fireEvent.click(chip("requests"));
    expect(count()).toBe("3 of 5 rows");
    expect(rows().map((r) => r.includes("TOKEN_REFRESHED") || r.includes("POST") || r.includes("GET"))).toEqual([true, true, true]);

    await fireEvent.click(chip("TOKEN_REFRESHED"));
    await fireEvent.click(chip("requests"));
    expect(chip("requests").getAttribute("aria-pressed")).toBe("false");
    expect(count()).toBe("5 rows");
  });

  it("searches the rows' text, and says so when nothing matches, with a way back", async () => {
    render(EventLog, { props: { log: logOf(sample()), onClear: vi.fn() } });
    const search = screen.getByRole("searchbox", { name: "Search the log" });
    await fireEvent.input(search, { target: { value: "/auth/v1/user 503" } });
    expect(count()).toBe("1 of 5 rows");
    expect(rows()[0]).toContain("GET /auth/v1/user 503");

    await fireEvent.input(search, { target: { value: "nothing-like-this" } });
    expect(screen.getByText(/No rows match “nothing-like-this”\./)).toBeTruthy();
    await fireEvent.click(screen.getByRole("button", { name: "Show all rows" }));
    expect(count()).toBe("5 rows");
    expect((search as HTMLInputElement).value).toBe("");
  });

  it("says what will appear while it is empty; Clear and Export are off", () => {
    render(EventLog, { props: { log: logOf([]), onClear: vi.fn() } });
    expect(screen.getByText(/Events appear here as they happen/)).toBeTruthy();
    expect(screen.getByRole<HTMLButtonElement>("button", { name: "Clear" }).disabled).toBe(true);
    expect(screen.getByRole<HTMLButtonElement>("button", { name: "Export NDJSON" }).disabled).toBe(true);
  });

  it("Clear asks the store to empty the log", async () => {
    const onClear = vi.fn();
    render(EventLog, { props: { log: logOf(sample()), onClear } });
    await fireEvent.click(screen.getByRole("button", { name: "Clear" }));
    expect(onClear).toHaveBeenCalledTimes(1);
  });

  it("exports the rows shown, oldest first, one JSON object a line, and says where it went", async () => {
    const items = sample();
    vi.mocked(api.exportLog).mockResolvedValue("/home/ada/Downloads/session-inspector-log-20240501-140211.ndjson");
    render(EventLog, { props: { log: logOf(items), onClear: vi.fn() } });
    await fireEvent.click(chip("requests"));
    await fireEvent.click(screen.getByRole("button", { name: "Export NDJSON" }));

    expect(api.exportLog).toHaveBeenCalledTimes(1);
    const [fileName, ndjson] = vi.mocked(api.exportLog).mock.calls[0]!;
    expect(fileName).toMatch(/^session-inspector-log-\d{8}-\d{6}\.ndjson$/);
    expect(ndjson).toBe(`${JSON.stringify(items[1])}\n${JSON.stringify(items[3])}\n`);
    const saved = await eventually(() => screen.getByRole("status"));
    expect(saved.textContent).toBe("Saved /home/ada/Downloads/session-inspector-log-20240501-140211.ndjson");
  });

  it("says why an export failed", async () => {
    vi.mocked(api.exportLog).mockRejectedValue(appError("invalidInput", "The export is larger than 64 MiB"));
    render(EventLog, { props: { log: logOf(sample()), onClear: vi.fn() } });
    await fireEvent.click(screen.getByRole("button", { name: "Export NDJSON" }));
    const box = await eventually(() => screen.getByRole("alert"));
    expect(box.id).toBe("log-export-error");
    expect(within(box).getByText("The export is larger than 64 MiB")).toBeTruthy();
  });

  it("opens the HTTP exchange behind a row, and closes it", async () => {
    const exchange: Exchange = {
      id: 7,
      startedAt: "2024-05-01T14:01:00.000Z",
      durationMs: 41.5,
      method: "POST",
      url: "https://abc.supabase.co/auth/v1/token?grant_type=refresh_token",
      requestHeaders: [["apikey", "fp:4b1d"]],
      requestBody: '{"refresh_token":"rt:b71c0e"}',
      status: 200,
      responseHeaders: [],
      responseBody: null,
      serverDate: null,
      error: null,
    };
    vi.mocked(api.exchange).mockResolvedValue(exchange);
    render(EventLog, { props: { log: logOf(sample()), onClear: vi.fn() } });
    const list = screen.getByRole("list", { name: "Log rows, newest first" });
    const refreshed = within(list).getByRole("button", { name: /TOKEN_REFRESHED/ });
    await fireEvent.click(refreshed);
    expect(api.exchange).toHaveBeenCalledWith(7);
    expect(refreshed.getAttribute("aria-expanded")).toBe("true");
    const detail = await eventually(() => screen.getByRole("region", { name: "Exchange #7" }));
    await eventually(() => expect(within(detail).getByText(exchange.url)).toBeTruthy());
    expect(within(detail).getByText("41.5 ms")).toBeTruthy();
    expect(within(detail).getByText("No body.")).toBeTruthy();

    await fireEvent.click(within(detail).getByRole("button", { name: "Close" }));
    expect(screen.queryByRole("region", { name: "Exchange #7" })).toBeNull();
  });
});

describe("LogRow", () => {
  const show = (row: LogItem) => {
    if (row.type === "profile" || row.type === "clock") throw new Error("not a row");
    render(LogRow, { props: { row, position: 1, count: 1, open: false, onOpen: vi.fn() } });
    return document.querySelector("li")!;
  };

  it("says a REFRESH_REJECTED event in the rejection's own words, without a transition", () => {
    const row = eventRow("REFRESH_REJECTED", {
      previous: "TOKEN_REFRESHED",
      reason: "refresh_token_not_found",
      rejection: rejection(),
    });
    const li = show(row);
    expect(li.dataset.kind).toBe("REFRESH_REJECTED");
    expect(li.textContent?.replace(/\s+/g, " ").trim()).toBe(
      `${clockTime(row.at)} REFRESH_REJECTED rt:b71c0e ${rejection().text}`,
    );
    expect(li.querySelector(".reason")?.getAttribute("title"), "the whole text on hover").toBe(rejection().text);
    expect(li.querySelector("button"), "no exchange: not a button").toBeNull();
  });

  it("says an ordinary event's transition and reason", () => {
    const li = show(eventRow("SIGNED_OUT", { previous: "TOKEN_REFRESHED", reason: "session_not_found", session: null }));
    expect(li.textContent).toContain("TOKEN_REFRESHED → SIGNED_OUT");
    expect(li.textContent).toContain("session_not_found");
  });

  it("says what set an event off, when the engine knows", () => {
    const li = show(eventRow("TOKEN_REFRESHED", { previous: "SIGNED_IN", causeLabel: "Auto-refresh" }));
    expect(li.querySelector(".cause")?.textContent).toBe("Auto-refresh");
    expect(li.textContent).toContain("SIGNED_IN → TOKEN_REFRESHED");
    cleanup();
    const unknown = show(eventRow("INITIAL_SESSION"));
    expect(unknown.querySelector(".cause"), "no cause, no label").toBeNull();
  });

  it("says a request that got no answer, and why", () => {
    const li = show(requestRow({ status: null, error: "connection refused", durationMs: 3 }));
    expect(li.dataset.status).toBe("none");
    expect(li.textContent?.replace(/\s+/g, " ")).toContain(
      "POST /auth/v1/token?grant_type=refresh_token no answer 3 ms connection refused",
    );
    expect(li.querySelector("button")?.getAttribute("title")).toBe("Show the HTTP exchange");
  });

  it("says a failure with GoTrue's title and code, and a joined refresh", () => {
    const failure = show(failureRow("refresh", appError("api", "Invalid Refresh Token: Already Used", "refresh_token_already_used", 400)));
    expect(failure.textContent?.replace(/\s+/g, " ")).toContain(
      "refresh failed Refresh token already used refresh_token_already_used Invalid Refresh Token: Already Used",
    );
    cleanup();
    expect(show(joinedRow("refresh")).textContent).toContain("refresh joined the one in flight — no second request");
  });
});

describe("EventLog, live", () => {
  it("shows what arrives at the next frame, all of a batch together", async () => {
    const frames: (() => void)[] = [];
    const log = new LiveLog(1_000, (work) => frames.push(work));
    sample().forEach((item) => log.receive(item));
    frames.splice(0).forEach((work) => work());
    render(EventLog, { props: { log, onClear: vi.fn() } });
    expect(count()).toBe("5 rows");

    log.receive(joinedRow("refresh"));
    log.receive(requestRow({ status: 200 }));
    await tick();
    expect(count(), "not before the frame").toBe("5 rows");
    frames.splice(0).forEach((work) => work());
    await tick();
    expect(count()).toBe("7 rows");
    expect(rows()[0]).toContain("POST");
    expect(rows()[1]).toContain("joined the one in flight");
  });
});
