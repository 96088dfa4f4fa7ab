import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";
import { api } from "../lib/api";
import type { ScenarioInfo, ScenarioReport } from "../lib/types";
import { appError, eventually, expectOnlyPlannedCalls } from "../test/api";
import Playground from "./Playground.svelte";

vi.mock("../lib/api");
expectOnlyPlannedCalls();
afterEach(() => cleanup());

/** The element `css` finds, once there is one. */
const found = (css: string) =>
  eventually(() => {
    const element = document.querySelector(css);
    if (!element) throw new Error(`no ${css} yet`);
    return element;
  });

const scenarios: ScenarioInfo[] = [
  { scenario: "twoClients", title: "Two clients, one token", does: "A second client refreshes.", watch: "Two requests.", seconds: null },
  { scenario: "serverDown", title: "Server down for 10 s", does: "Down for 10 s.", watch: "A failure row.", seconds: 10 },
];

describe("Playground", () => {
  it("lists each scenario with what it does and what to watch, and runs one on a click", async () => {
    vi.mocked(api.playgroundScenarios).mockResolvedValue(scenarios);
    const report: ScenarioReport = { scenario: "twoClients", lines: ["The app got refresh token ab12.", "The second client got ab12 too."], stillOn: null };
    vi.mocked(api.playgroundRun).mockResolvedValue(report);
    render(Playground);
    const button = await eventually(() => screen.getByRole("button", { name: "Two clients, one token" }));
    expect(screen.getByText("A second client refreshes.")).toBeTruthy();
    expect(screen.getByText("Two requests.")).toBeTruthy();
    await fireEvent.click(button);
    expect(api.playgroundRun).toHaveBeenCalledWith("twoClients");
    const item = await found("#scenario-twoClients[data-state='finished']");
    expect(item?.textContent).toMatch(/Finished.*The app got refresh token ab12.*The second client got ab12 too/s);
  });

  it("counts a waiting scenario down while it runs, and no other can start meanwhile", async () => {
    vi.mocked(api.playgroundScenarios).mockResolvedValue(scenarios);
    let finish: (r: ScenarioReport) => void = () => {};
    vi.mocked(api.playgroundRun).mockImplementation(() => new Promise((resolve) => (finish = resolve)));
    render(Playground);
    await fireEvent.click(await eventually(() => screen.getByRole("button", { name: "Server down for 10 s" })));
    const running = await found("#scenario-serverDown .running");
    expect(running?.textContent).toMatch(/Running: (10|9) s left/);
    expect((screen.getByRole("button", { name: "Two clients, one token" }) as HTMLButtonElement).disabled).toBe(true);
    finish({ scenario: "serverDown", lines: ["Refresh after the outage: the app got refresh token cd34."], stillOn: null });
    await found("#scenario-serverDown[data-state='finished']");
    expect(api.playgroundRun).toHaveBeenCalledTimes(1);
  });

  it("shows why a scenario could not run, and resets the server on request", async () => {
    vi.mocked(api.playgroundScenarios).mockResolvedValue(scenarios);
    vi.mocked(api.playgroundRun).mockRejectedValue(
      appError("playgroundBusy", "Another playground scenario is still running; wait for it to finish."),
    );
    vi.mocked(api.playgroundReset).mockResolvedValue();
    render(Playground);
    await fireEvent.click(await eventually(() => screen.getByRole("button", { name: "Two clients, one token" })));
    const error = await found("#playground-error");
    expect(error?.textContent).toMatch(/still running/);
    await fireEvent.click(screen.getByRole("button", { name: "Reset playground" }));
    expect(api.playgroundReset).toHaveBeenCalled();
    await found("#playground-reset-done");
  });

  it("announces a scenario's start and end only, never the countdown's ticks", async () => {
    vi.mocked(api.playgroundScenarios).mockResolvedValue(scenarios);
    let finish: (r: ScenarioReport) => void = () => {};
    vi.mocked(api.playgroundRun).mockImplementation(() => new Promise((resolve) => (finish = resolve)));
    render(Playground);
    await fireEvent.click(await eventually(() => screen.getByRole("button", { name: "Server down for 10 s" })));
    const running = await found("#scenario-serverDown .running");
    // The ticking text is not a live region; the one live region says "running" once.
    expect(running.getAttribute("role")).toBeNull();
    expect(running.getAttribute("aria-live")).toBe("off");
    const live = document.querySelectorAll("[aria-live='polite'], [role='status']");
    expect(live.length).toBe(1);
    expect(live[0]?.textContent).toBe("Server down for 10 s: running.");
    finish({ scenario: "serverDown", lines: ["Done."], stillOn: null });
    await found("#scenario-serverDown[data-state='finished']");
    expect(document.querySelectorAll("[aria-live='polite'], [role='status']").length).toBe(1);
    expect(document.querySelector("#playground-announce")?.textContent).toBe("Server down for 10 s: finished.");
    // The heading is named for the panel alone (the reset button sits beside it).
    expect(screen.getByRole("heading", { name: "Playground" })).toBeTruthy();
  });

  it("says it is loading, then shows what a scenario left on until Reset playground", async () => {
    let list: (l: ScenarioInfo[]) => void = () => {};
    vi.mocked(api.playgroundScenarios).mockImplementation(() => new Promise((resolve) => (list = resolve)));
    vi.mocked(api.playgroundRun).mockResolvedValue({
      scenario: "twoClients",
      lines: ["Done."],
      stillOn: "The server's clock still runs 300 s ahead.",
    });
    vi.mocked(api.playgroundReset).mockResolvedValue();
    render(Playground);
    expect(document.querySelector("#playground-loading")?.textContent).toMatch(/Loading/);
    list(scenarios);
    await fireEvent.click(await eventually(() => screen.getByRole("button", { name: "Two clients, one token" })));
    expect(document.querySelector("#playground-loading")).toBeNull();
    const still = await found("#playground-still-on");
    expect(still.textContent).toMatch(/Still on:.*300 s ahead/);
    await fireEvent.click(screen.getByRole("button", { name: "Reset playground" }));
    await found("#playground-reset-done");
    expect(document.querySelector("#playground-still-on")).toBeNull();
  });
});
