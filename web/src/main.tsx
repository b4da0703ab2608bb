import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import "./styles.css";
import { LinkApp } from "./account/LinkPages";
import { ConsoleApp } from "./agent/ConsoleApp";
import { IndividualApp } from "./individual/IndividualApp";
import { OperatorApp } from "./operator/OperatorApp";

// Paths the server answers with this page (WEB_APP_ROUTES in src/raasel/app.py).
const section = window.location.pathname.split("/")[1];
const LINK_PAGES = ["verify-email", "reset-password", "invitation"];

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    {LINK_PAGES.includes(section) ? <LinkApp page={section} /> : section === "agent" || section === "admin" ? <ConsoleApp /> : section === "operator" ? <OperatorApp /> : <IndividualApp />}
  </StrictMode>,
);
