import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import "./styles.css";
import { ConsoleApp } from "./agent/ConsoleApp";
import { IndividualApp } from "./individual/IndividualApp";

// Paths the server answers with this page (WEB_APP_ROUTES in src/raasel/app.py).
const section = window.location.pathname.split("/")[1];
const App = section === "agent" || section === "admin" ? ConsoleApp : IndividualApp;

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
