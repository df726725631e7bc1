extension Supervisor {
    /// An event of this container into the engine's events file.
    func emitEvent(_ action: String, _ extra: [String: String] = [:]) {
        guard let path = config.eventsPath else { return }
        var attributes = config.eventAttributes ?? [:]
        for (key, value) in extra { attributes[key] = value }
        EventLog.append(EventMessage(container: config.id, action: action, attributes: attributes), to: path)
    }

    /// Docker's "network disconnect" for each network the container leaves when it ends.
    func emitNetworkDisconnect(networkID: String, name: String) {
        guard let path = config.eventsPath else { return }
        EventLog.append(EventMessage(network: networkID, name: name, action: "disconnect", container: config.id), to: path)
    }
}
