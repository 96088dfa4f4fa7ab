import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";
import EmptyState from "./EmptyState.svelte";

afterEach(() => cleanup());

describe("EmptyState", () => {
  it("with a profile open, points at the panels below", () => {
    render(EmptyState);
    expect(screen.getByText(/No session is open in this profile/)).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Add a project" })).toBeNull();
  });

  it("with no profile (a build without the demo), says so and opens the project form", async () => {
    const onAddProject = vi.fn();
    render(EmptyState, { props: { noProfile: true, onAddProject } });
    expect(screen.getByText(/no built-in demo server/)).toBeTruthy();
    expect(screen.queryByText(/Sign in below/)).toBeNull();
    await fireEvent.click(screen.getByRole("button", { name: "Add a project" }));
    expect(onAddProject).toHaveBeenCalledOnce();
  });
});
