// Reads each .ics file named on the command line with ical.js and prints one JSON array:
// per VEVENT its file, UID, SEQUENCE, the calendar's METHOD, and start/end as UTC ISO strings.
// One node process reads all files; the zone registry is reset per file so no file's VTIMEZONE
// can answer for another's (ical.js, like vobject, keeps zones by TZID).
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

function utcIso(time) {
  if (time === null) {
    return null;
  }
  return time.toJSDate().toISOString().replace(".000Z", "Z");
}

const results = [];
for (const file of process.argv.slice(2)) {
  ICAL.TimezoneService.reset();
  const calendar = new ICAL.Component(ICAL.parse(readFileSync(file, "utf8")));
  for (const vtimezone of calendar.getAllSubcomponents("vtimezone")) {
    ICAL.TimezoneService.register(vtimezone);
  }
  for (const vevent of calendar.getAllSubcomponents("vevent")) {
    const event = new ICAL.Event(vevent);
    results.push({
      file,
      uid: event.uid,
      sequence: event.sequence,
      method: calendar.getFirstPropertyValue("method"),
      start: utcIso(event.startDate),
      end: utcIso(event.endDate),
      start_zone: event.startDate.zone ? event.startDate.zone.tzid : null,
    });
  }
}
process.stdout.write(JSON.stringify(results));
