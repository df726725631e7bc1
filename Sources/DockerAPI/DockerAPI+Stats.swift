import ContainerSpec
import DockerModel
import Engine
import HTTPServer
import LinuxSys
import TextTemplate

extension DockerAPI {
    static var statsRoutes: [Route] {
        [Route(.GET, "containers/{id}/stats") { api, call in try api.stats(call) }]
    }

    /// `GET /containers/{id}/stats?stream=&one-shot=`: Docker's stats object, one a second while
    /// streaming (until the client leaves or the container is removed), each with the one before
    /// as precpu_stats. Without `stream`, one object a second after a first reading (so CPU %
    /// spans that second, as `docker stats --no-stream` shows it); with `one-shot`, at once.
    func stats(_ call: APICall) throws {
        let container = try engine.container(call.parameter("id"))
        let stream = try call.flag("stream", default: true)
        let oneShot = try call.flag("one-shot")
        if stream && oneShot { throw EngineError.invalid("cannot have stream=true and one-shot=true") }
        let name = container.name, id = container.id
        func response(_ reading: Engine.StatsReading?, _ previous: Engine.StatsReading?) -> StatsResponse {
            guard let reading else { return StatsResponse(name: name, id: id) }
            return StatsResponse(reading, previous: previous, name: name, id: id)
        }
        if !stream {
            let first = engine.statsReading(container)
            guard let first, !oneShot else {
                try call.writer.json(response(first, nil))
                return
            }
            ProcessSys.sleep(milliseconds: 1000)
            guard let second = engine.statsReading(container) else {
                try call.writer.json(response(nil, nil))
                return
            }
            try call.writer.json(response(second, first))
            return
        }
        let writer = call.writer
        writer.startStream(headers: [("Content-Type", "application/json")])
        var previous: Engine.StatsReading?
        while !writer.clientGone {
            let reading = engine.statsReading(container)
            let text: String
            do { text = try TemplateValueEncoder().encode(response(reading, previous)).json() } catch { return }
            guard writer.write(Array(text.utf8) + [10]) else { return }
            previous = reading
            // A second between readings, in steps, so a client that leaves is noticed soon.
            for _ in 0..<10 where !writer.clientGone { ProcessSys.sleep(milliseconds: 100) }
            guard (try? engine.container(id)) != nil else { return }
        }
    }
}
