import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, within } from "@testing-library/svelte";
import { api } from "../lib/api";
import type { DetectedStack, Status } from "../lib/types";
import { appError, deferred, eventually, expectOnlyPlannedCalls } from "../test/api";
import { status } from "../test/fixtures";
import ProjectForm from "./ProjectForm.svelte";

vi.mock("../lib/api");
expectOnlyPlannedCalls();
afterEach(() => cleanup());

function form(detected: DetectedStack | null = null) {
  const onAdded = vi.fn();
  const onClose = vi.fn();
  render(ProjectForm, { props: { detected, onAdded, onClose } });
  return { onAdded, onClose };
}

const field = (label: string) => screen.getByLabelText<HTMLInputElement>(label);
const save = () => screen.getByRole<HTMLButtonElement>("button", { name: /^(Check and add|Checking…)$/ });

async function fill(name: string, url: string, key: string) {
  await fireEvent.input(field("Name"), { target: { value: name } });
  await fireEvent.input(field("Project URL"), { target: { value: url } });
  await fireEvent.input(field("Anon or publishable key"), { target: { value: key } });
}

describe("ProjectForm", () => {
  it("sends the project for the app to check, is busy meanwhile, and hands on the new status", async () => {
    const answer = deferred<Status>();
    vi.mocked(api.addProfile).mockReturnValue(answer.promise);
    const { onAdded } = form();
    await fill("Production", "https://abcdefghijklmnop.supabase.co", "sb_publishable_abc123");
    await fireEvent.click(save());

    expect(api.addProfile).toHaveBeenCalledWith("Production", "https://abcdefghijklmnop.supabase.co", "sb_publishable_abc123");
    expect(save().disabled).toBe(true);
    expect(save().textContent?.trim()).toBe("Checking…");

    const next = status({ profileId: "p2", profile: "Production", builtIn: false });
    answer.resolve(next);
    await eventually(() => expect(onAdded).toHaveBeenCalledWith(next));
    expect(save().disabled).toBe(false);
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("shows why a URL was refused, and adds nothing", async () => {
    vi.mocked(api.addProfile).mockRejectedValue(
      appError("invalidInput", 'project URL "ftp://abc" must be an http(s) URL'),
    );
    const { onAdded } = form();
    await fill("Broken", "ftp://abc", "sb_publishable_abc123");
    await fireEvent.click(save());
    const box = await eventually(() => screen.getByRole("alert"));
    expect(box.id).toBe("project-error");
    expect(within(box).getByText("Input not accepted")).toBeTruthy();
    expect(within(box).getByText('project URL "ftp://abc" must be an http(s) URL')).toBeTruthy();
    expect(onAdded).not.toHaveBeenCalled();
    expect(field("Project URL").value, "kept to correct it").toBe("ftp://abc");
    expect(save().disabled).toBe(false);
  });

  it("shows why a key was refused, before or after asking the server", async () => {
    const shape =
      "The anon key should be the project's anon JWT (eyJ…) or its publishable key (sb_publishable_…), from Project Settings → API.";
    const unreachable =
      "https://abcdefghijklmnop.supabase.co did not answer as a Supabase Auth server with this key: Invalid API key";
    vi.mocked(api.addProfile)
      .mockRejectedValueOnce(appError("invalidInput", shape))
      .mockRejectedValueOnce(appError("invalidInput", unreachable));
    const { onAdded } = form();
    await fill("Production", "https://abcdefghijklmnop.supabase.co", "not-a-key");
    await fireEvent.click(save());
    await eventually(() => expect(within(screen.getByRole("alert")).getByText(shape)).toBeTruthy());

    await fireEvent.input(field("Anon or publishable key"), { target: { value: "sb_publishable_revoked" } });
    await fireEvent.click(save());
    expect(api.addProfile).toHaveBeenLastCalledWith("Production", "https://abcdefghijklmnop.supabase.co", "sb_publishable_revoked");
    await eventually(() => expect(within(screen.getByRole("alert")).getByText(unreachable)).toBeTruthy());
    expect(screen.getAllByRole("alert"), "one box, the latest failure").toHaveLength(1);
    expect(onAdded).not.toHaveBeenCalled();
  });

  it("offers a local stack that answered, and fills it in", async () => {
    vi.mocked(api.addProfile).mockResolvedValue(status());
    form({ url: "http://127.0.0.1:54399", anonKey: "eyJhbGciOiJIUzI1NiJ9.local" });
    expect(document.getElementById("local-stack")?.textContent).toContain("answers at http://127.0.0.1:54399");
    await fireEvent.click(screen.getByRole("button", { name: "Use it" }));
    expect(field("Name").value).toBe("Local stack");
    expect(field("Project URL").value).toBe("http://127.0.0.1:54399");
    expect(field("Anon or publishable key").value).toBe("eyJhbGciOiJIUzI1NiJ9.local");
    await fireEvent.click(save());
    expect(api.addProfile).toHaveBeenCalledWith("Local stack", "http://127.0.0.1:54399", "eyJhbGciOiJIUzI1NiJ9.local");
  });

  it("offers no stack when none answered; Cancel closes the form", async () => {
    const { onClose } = form();
    expect(document.getElementById("local-stack")).toBeNull();
    await fireEvent.click(screen.getByRole("button", { name: "Cancel" }));
    expect(onClose).toHaveBeenCalledTimes(1);
    expect(api.addProfile).not.toHaveBeenCalled();
  });
});
