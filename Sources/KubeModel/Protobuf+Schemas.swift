/// The messages the protobuf decoder reads: field number → JSON name and type, from k8s.io/api's
/// and k8s.io/apimachinery's generated.proto. One line per message:
/// `number name[:type]`, where type is (default: string)
///   `s` `i` `b` string, integer, boolean; zero values are dropped as JSON's omitempty drops them,
///       unless marked `!` (pointers and fields without omitempty keep them);
///   `bytes` (base64), `q` Quantity, `ios` IntOrString, `t` Time;
///   `{s}` `{bytes}` `{q}` maps from string; `[s]` `[i]` `[Msg]` repeated;
///   `Msg` a message; `+Msg` an embedded message whose fields JSON inlines.
extension KubeProtobuf {
    enum Schema {
        enum Scalar: Equatable { case string, int, bool, bytes, quantity, intOrString, time }
        enum FieldType { case scalar(Scalar, keepZero: Bool), scalars(Scalar), map(Scalar), message(String), inline(String), messages(String) }
        struct Field { let name: String; let type: FieldType }

        /// The message a top-level object's `apiVersion` and `kind` name.
        static func message(apiVersion: String, kind: String) -> String? {
            if let name = kinds[apiVersion + "/" + kind] { return name }
            return nil
        }

        static let kinds: [String: String] = [
            "v1/ConfigMap": "ConfigMap", "v1/Secret": "Secret", "v1/Namespace": "Namespace", "v1/ServiceAccount": "ServiceAccount",
            "v1/Pod": "Pod", "v1/Service": "Service", "v1/Endpoints": "Endpoints",
            "v1/PersistentVolumeClaim": "PersistentVolumeClaim", "v1/PersistentVolume": "PersistentVolume",
            "apps/v1/Deployment": "Deployment", "apps/v1/ReplicaSet": "ReplicaSet", "apps/v1/StatefulSet": "StatefulSet",
            "apps/v1/DaemonSet": "DaemonSet", "batch/v1/Job": "Job", "batch/v1/CronJob": "CronJob",
            "networking.k8s.io/v1/Ingress": "Ingress", "networking.k8s.io/v1/IngressClass": "IngressClass",
            "networking.k8s.io/v1/NetworkPolicy": "NetworkPolicy",
            "autoscaling/v2/HorizontalPodAutoscaler": "HorizontalPodAutoscaler", "autoscaling/v1/HorizontalPodAutoscaler": "v1.HorizontalPodAutoscaler",
        ]

        static let table: [String: String] = [
            // k8s.io/apimachinery meta/v1
            "ObjectMeta": "1 name, 2 generateName, 3 namespace, 4 selfLink, 5 uid, 6 resourceVersion, 7 generation:i, 8 creationTimestamp:t, "
                + "9 deletionTimestamp:t, 10 deletionGracePeriodSeconds:i!, 11 labels:{s}, 12 annotations:{s}, 13 ownerReferences:[OwnerReference], "
                + "14 finalizers:[s]",
            "OwnerReference": "5 apiVersion, 1 kind, 3 name, 4 uid, 6 controller:b!, 7 blockOwnerDeletion:b!",
            "LabelSelector": "1 matchLabels:{s}, 2 matchExpressions:[LabelSelectorRequirement]",
            "LabelSelectorRequirement": "1 key, 2 operator, 3 values:[s]",
            "Condition": "1 type, 2 status, 3 observedGeneration:i, 4 lastTransitionTime:t, 5 reason, 6 message",

            // core/v1: the plain kinds
            "ConfigMap": "1 metadata:ObjectMeta, 2 data:{s}, 3 binaryData:{bytes}, 4 immutable:b!",
            "Secret": "1 metadata:ObjectMeta, 2 data:{bytes}, 3 type, 4 stringData:{s}, 5 immutable:b!",
            "Namespace": "1 metadata:ObjectMeta, 2 spec:NamespaceSpec, 3 status:NamespaceStatus",
            "NamespaceSpec": "1 finalizers:[s]",
            "NamespaceStatus": "1 phase, 2 conditions:[NamespaceCondition]",
            "NamespaceCondition": "1 type, 2 status, 4 lastTransitionTime:t, 5 reason, 6 message",
            "ServiceAccount": "1 metadata:ObjectMeta, 2 secrets:[ObjectReference], 3 imagePullSecrets:[LocalObjectReference], "
                + "4 automountServiceAccountToken:b!",
            "ObjectReference": "1 kind, 2 namespace, 3 name, 4 uid, 5 apiVersion, 6 resourceVersion, 7 fieldPath",
            "LocalObjectReference": "1 name",
            "TypedLocalObjectReference": "1 apiGroup:s!, 2 kind, 3 name",

            // core/v1: Pods
            "Pod": "1 metadata:ObjectMeta, 2 spec:PodSpec, 3 status:PodStatus",
            "PodStatus": "1 phase, 2 conditions:[PodCondition], 3 message, 4 reason, 5 hostIP, 6 podIP, 7 startTime:t, "
                + "8 containerStatuses:[ContainerStatus], 9 qosClass, 10 initContainerStatuses:[ContainerStatus], 11 nominatedNodeName, "
                + "12 podIPs:[PodIP], 14 hostIPs:[PodIP]",
            "PodIP": "1 ip",
            "PodCondition": "1 type, 2 status, 3 lastProbeTime:t, 4 lastTransitionTime:t, 5 reason, 6 message",
            "ContainerStatus": "1 name, 2 state:ContainerState, 3 lastState:ContainerState, 4 ready:b!, 5 restartCount:i!, 6 image, "
                + "7 imageID, 8 containerID, 9 started:b!",
            "ContainerState": "1 waiting:ContainerStateWaiting, 2 running:ContainerStateRunning, 3 terminated:ContainerStateTerminated",
            "ContainerStateWaiting": "1 reason, 2 message",
            "ContainerStateRunning": "1 startedAt:t",
            "ContainerStateTerminated": "1 exitCode:i!, 2 signal:i, 3 reason, 4 message, 5 startedAt:t, 6 finishedAt:t, 7 containerID",
            "PodTemplateSpec": "1 metadata:ObjectMeta, 2 spec:PodSpec",
            "PodSpec": "1 volumes:[Volume], 20 initContainers:[Container], 2 containers:[Container], 3 restartPolicy, "
                + "4 terminationGracePeriodSeconds:i!, 5 activeDeadlineSeconds:i!, 6 dnsPolicy, 7 nodeSelector:{s}, 8 serviceAccountName, "
                + "9 serviceAccount, 21 automountServiceAccountToken:b!, 10 nodeName, 11 hostNetwork:b, 12 hostPID:b, 13 hostIPC:b, "
                + "27 shareProcessNamespace:b!, 14 securityContext:PodSecurityContext, 15 imagePullSecrets:[LocalObjectReference], "
                + "16 hostname, 17 subdomain, 18 affinity:Affinity, 19 schedulerName, 22 tolerations:[Toleration], 23 hostAliases:[HostAlias], "
                + "24 priorityClassName, 25 priority:i!, 26 dnsConfig:PodDNSConfig, 28 readinessGates:[PodReadinessGate], "
                + "29 runtimeClassName:s!, 30 enableServiceLinks:b!, 31 preemptionPolicy:s!, 32 overhead:{q}, "
                + "33 topologySpreadConstraints:[TopologySpreadConstraint], 35 setHostnameAsFQDN:b!, 36 os:PodOS, 37 hostUsers:b!, "
                + "38 schedulingGates:[PodSchedulingGate], 40 resources:ResourceRequirements",
            "PodOS": "1 name",
            "PodSchedulingGate": "1 name",
            "PodReadinessGate": "1 conditionType",
            "HostAlias": "1 ip, 2 hostnames:[s]",
            "PodDNSConfig": "1 nameservers:[s], 2 searches:[s], 3 options:[PodDNSConfigOption]",
            "PodDNSConfigOption": "1 name, 2 value:s!",
            "Toleration": "1 key, 2 operator, 3 value, 4 effect, 5 tolerationSeconds:i!",
            "TopologySpreadConstraint": "1 maxSkew:i!, 2 topologyKey, 3 whenUnsatisfiable, 4 labelSelector:LabelSelector, 5 minDomains:i!, "
                + "6 nodeAffinityPolicy:s!, 7 nodeTaintsPolicy:s!, 8 matchLabelKeys:[s]",
            "Affinity": "1 nodeAffinity:NodeAffinity, 2 podAffinity:PodAffinity, 3 podAntiAffinity:PodAffinity",
            "NodeAffinity": "1 requiredDuringSchedulingIgnoredDuringExecution:NodeSelector, "
                + "2 preferredDuringSchedulingIgnoredDuringExecution:[PreferredSchedulingTerm]",
            "NodeSelector": "1 nodeSelectorTerms:[NodeSelectorTerm]",
            "NodeSelectorTerm": "1 matchExpressions:[NodeSelectorRequirement], 2 matchFields:[NodeSelectorRequirement]",
            "NodeSelectorRequirement": "1 key, 2 operator, 3 values:[s]",
            "PreferredSchedulingTerm": "1 weight:i!, 2 preference:NodeSelectorTerm",
            "PodAffinity": "1 requiredDuringSchedulingIgnoredDuringExecution:[PodAffinityTerm], "
                + "2 preferredDuringSchedulingIgnoredDuringExecution:[WeightedPodAffinityTerm]",
            "PodAffinityTerm": "1 labelSelector:LabelSelector, 2 namespaces:[s], 3 topologyKey, 4 namespaceSelector:LabelSelector, "
                + "5 matchLabelKeys:[s], 6 mismatchLabelKeys:[s]",
            "WeightedPodAffinityTerm": "1 weight:i!, 2 podAffinityTerm:PodAffinityTerm",
            "PodSecurityContext": "1 seLinuxOptions:SELinuxOptions, 2 runAsUser:i!, 6 runAsGroup:i!, 3 runAsNonRoot:b!, "
                + "4 supplementalGroups:[i], 12 supplementalGroupsPolicy:s!, 5 fsGroup:i!, 7 sysctls:[Sysctl], 9 fsGroupChangePolicy:s!, "
                + "10 seccompProfile:SeccompProfile, 11 appArmorProfile:AppArmorProfile",
            "SELinuxOptions": "1 user, 2 role, 3 type, 4 level",
            "Sysctl": "1 name, 2 value",
            "SeccompProfile": "1 type, 2 localhostProfile:s!",
            "AppArmorProfile": "1 type, 2 localhostProfile:s!",
            "Container": "1 name, 2 image, 3 command:[s], 4 args:[s], 5 workingDir, 6 ports:[ContainerPort], 19 envFrom:[EnvFromSource], "
                + "7 env:[EnvVar], 8 resources:ResourceRequirements, 23 resizePolicy:[ContainerResizePolicy], 24 restartPolicy:s!, "
                + "9 volumeMounts:[VolumeMount], 21 volumeDevices:[VolumeDevice], 10 livenessProbe:Probe, 11 readinessProbe:Probe, "
                + "22 startupProbe:Probe, 12 lifecycle:Lifecycle, 13 terminationMessagePath, 20 terminationMessagePolicy, "
                + "14 imagePullPolicy, 15 securityContext:SecurityContext, 16 stdin:b, 17 stdinOnce:b, 18 tty:b",
            "ContainerPort": "1 name, 2 hostPort:i, 3 containerPort:i!, 4 protocol, 5 hostIP",
            "ContainerResizePolicy": "1 resourceName, 2 restartPolicy",
            "VolumeDevice": "1 name, 2 devicePath",
            "EnvVar": "1 name, 2 value, 3 valueFrom:EnvVarSource",
            "EnvVarSource": "1 fieldRef:ObjectFieldSelector, 2 resourceFieldRef:ResourceFieldSelector, 3 configMapKeyRef:ConfigMapKeySelector, "
                + "4 secretKeyRef:SecretKeySelector",
            "ObjectFieldSelector": "1 apiVersion, 2 fieldPath",
            "ResourceFieldSelector": "1 containerName, 2 resource, 3 divisor:q",
            "ConfigMapKeySelector": "1 localObjectReference:+LocalObjectReference, 2 key, 3 optional:b!",
            "SecretKeySelector": "1 localObjectReference:+LocalObjectReference, 2 key, 3 optional:b!",
            "EnvFromSource": "1 prefix, 2 configMapRef:ConfigMapEnvSource, 3 secretRef:SecretEnvSource",
            "ConfigMapEnvSource": "1 localObjectReference:+LocalObjectReference, 2 optional:b!",
            "SecretEnvSource": "1 localObjectReference:+LocalObjectReference, 2 optional:b!",
            "ResourceRequirements": "1 limits:{q}, 2 requests:{q}, 3 claims:[ResourceClaim]",
            "ResourceClaim": "1 name, 2 request",
            "VolumeMount": "1 name, 2 readOnly:b, 7 recursiveReadOnly:s!, 3 mountPath, 4 subPath, 5 mountPropagation:s!, 6 subPathExpr",
            "Probe": "1 handler:+ProbeHandler, 2 initialDelaySeconds:i, 3 timeoutSeconds:i, 4 periodSeconds:i, 5 successThreshold:i, "
                + "6 failureThreshold:i, 7 terminationGracePeriodSeconds:i!",
            "ProbeHandler": "1 exec:ExecAction, 2 httpGet:HTTPGetAction, 3 tcpSocket:TCPSocketAction, 4 grpc:GRPCAction",
            "ExecAction": "1 command:[s]",
            "HTTPGetAction": "1 path, 2 port:ios, 3 host, 4 scheme, 5 httpHeaders:[HTTPHeader]",
            "HTTPHeader": "1 name, 2 value:s!",
            "TCPSocketAction": "1 port:ios, 2 host",
            "GRPCAction": "1 port:i!, 2 service:s!",
            "Lifecycle": "1 postStart:LifecycleHandler, 2 preStop:LifecycleHandler, 3 stopSignal:s!",
            "LifecycleHandler": "1 exec:ExecAction, 2 httpGet:HTTPGetAction, 3 tcpSocket:TCPSocketAction, 4 sleep:SleepAction",
            "SleepAction": "1 seconds:i!",
            "SecurityContext": "1 capabilities:Capabilities, 2 privileged:b!, 3 seLinuxOptions:SELinuxOptions, 4 runAsUser:i!, "
                + "8 runAsGroup:i!, 5 runAsNonRoot:b!, 6 readOnlyRootFilesystem:b!, 7 allowPrivilegeEscalation:b!, 9 procMount:s!, "
                + "11 seccompProfile:SeccompProfile, 12 appArmorProfile:AppArmorProfile",
            "Capabilities": "1 add:[s], 2 drop:[s]",
            "Volume": "1 name, 2 volumeSource:+VolumeSource",
            "VolumeSource": "1 hostPath:HostPathVolumeSource, 2 emptyDir:EmptyDirVolumeSource, 6 secret:SecretVolumeSource, "
                + "10 persistentVolumeClaim:PersistentVolumeClaimVolumeSource, 16 downwardAPI:DownwardAPIVolumeSource, "
                + "19 configMap:ConfigMapVolumeSource, 26 projected:ProjectedVolumeSource, 29 ephemeral:EphemeralVolumeSource, "
                + "30 image:ImageVolumeSource",
            "HostPathVolumeSource": "1 path, 2 type:s!",
            "EmptyDirVolumeSource": "1 medium, 2 sizeLimit:q",
            "SecretVolumeSource": "1 secretName, 2 items:[KeyToPath], 3 defaultMode:i!, 4 optional:b!",
            "ConfigMapVolumeSource": "1 localObjectReference:+LocalObjectReference, 2 items:[KeyToPath], 3 defaultMode:i!, 4 optional:b!",
            "KeyToPath": "1 key, 2 path, 3 mode:i!",
            "PersistentVolumeClaimVolumeSource": "1 claimName, 2 readOnly:b",
            "DownwardAPIVolumeSource": "1 items:[DownwardAPIVolumeFile], 2 defaultMode:i!",
            "DownwardAPIVolumeFile": "1 path, 2 fieldRef:ObjectFieldSelector, 3 resourceFieldRef:ResourceFieldSelector, 4 mode:i!",
            "ProjectedVolumeSource": "1 sources:[VolumeProjection], 2 defaultMode:i!",
            "VolumeProjection": "1 secret:SecretProjection, 2 downwardAPI:DownwardAPIProjection, 3 configMap:ConfigMapProjection, "
                + "4 serviceAccountToken:ServiceAccountTokenProjection",
            "SecretProjection": "1 localObjectReference:+LocalObjectReference, 2 items:[KeyToPath], 4 optional:b!",
            "ConfigMapProjection": "1 localObjectReference:+LocalObjectReference, 2 items:[KeyToPath], 4 optional:b!",
            "DownwardAPIProjection": "1 items:[DownwardAPIVolumeFile]",
            "ServiceAccountTokenProjection": "1 audience, 2 expirationSeconds:i!, 3 path",
            "EphemeralVolumeSource": "1 volumeClaimTemplate:PersistentVolumeClaimTemplate",
            "PersistentVolumeClaimTemplate": "1 metadata:ObjectMeta, 2 spec:PersistentVolumeClaimSpec",
            "ImageVolumeSource": "1 reference, 2 pullPolicy",

            // core/v1: Services, Endpoints, volumes
            "Service": "1 metadata:ObjectMeta, 2 spec:ServiceSpec, 3 status:ServiceStatus",
            "ServiceSpec": "1 ports:[ServicePort], 2 selector:{s}, 3 clusterIP, 18 clusterIPs:[s], 4 type, 5 externalIPs:[s], "
                + "7 sessionAffinity, 8 loadBalancerIP, 9 loadBalancerSourceRanges:[s], 10 externalName, 11 externalTrafficPolicy, "
                + "12 healthCheckNodePort:i, 13 publishNotReadyAddresses:b, 14 sessionAffinityConfig:SessionAffinityConfig, "
                + "19 ipFamilies:[s], 17 ipFamilyPolicy:s!, 20 allocateLoadBalancerNodePorts:b!, 21 loadBalancerClass:s!, "
                + "22 internalTrafficPolicy:s!, 23 trafficDistribution:s!",
            "ServicePort": "1 name, 2 protocol, 6 appProtocol:s!, 3 port:i!, 4 targetPort:ios, 5 nodePort:i",
            "SessionAffinityConfig": "1 clientIP:ClientIPConfig",
            "ClientIPConfig": "1 timeoutSeconds:i!",
            "ServiceStatus": "1 loadBalancer:LoadBalancerStatus, 2 conditions:[Condition]",
            "LoadBalancerStatus": "1 ingress:[LoadBalancerIngress]",
            "LoadBalancerIngress": "1 ip, 2 hostname, 3 ipMode:s!, 4 ports:[PortStatus]",
            "PortStatus": "1 port:i!, 2 protocol, 3 error:s!",
            "Endpoints": "1 metadata:ObjectMeta, 2 subsets:[EndpointSubset]",
            "EndpointSubset": "1 addresses:[EndpointAddress], 2 notReadyAddresses:[EndpointAddress], 3 ports:[EndpointPort]",
            "EndpointAddress": "1 ip, 3 hostname, 4 nodeName:s!, 2 targetRef:ObjectReference",
            "EndpointPort": "1 name, 2 port:i!, 3 protocol, 4 appProtocol:s!",
            "PersistentVolumeClaim": "1 metadata:ObjectMeta, 2 spec:PersistentVolumeClaimSpec, 3 status:PersistentVolumeClaimStatus",
            "PersistentVolumeClaimSpec": "1 accessModes:[s], 4 selector:LabelSelector, 2 resources:VolumeResourceRequirements, 3 volumeName, "
                + "5 storageClassName:s!, 6 volumeMode:s!, 7 dataSource:TypedLocalObjectReference, 9 volumeAttributesClassName:s!",
            "VolumeResourceRequirements": "1 limits:{q}, 2 requests:{q}",
            "PersistentVolumeClaimStatus": "1 phase, 2 accessModes:[s], 3 capacity:{q}",
            "PersistentVolume": "1 metadata:ObjectMeta, 2 spec:PersistentVolumeSpec, 3 status:PersistentVolumeStatus",
            "PersistentVolumeSpec": "1 capacity:{q}, 2 persistentVolumeSource:+PersistentVolumeSource, 3 accessModes:[s], "
                + "4 claimRef:ObjectReference, 5 persistentVolumeReclaimPolicy, 6 storageClassName, 7 mountOptions:[s], 8 volumeMode:s!, "
                + "9 nodeAffinity:VolumeNodeAffinity",
            "PersistentVolumeSource": "3 hostPath:HostPathVolumeSource, 20 local:LocalVolumeSource",
            "LocalVolumeSource": "1 path, 2 fsType:s!",
            "VolumeNodeAffinity": "1 required:NodeSelector",
            "PersistentVolumeStatus": "1 phase, 2 message, 3 reason, 4 lastPhaseTransitionTime:t",

            // apps/v1
            "Deployment": "1 metadata:ObjectMeta, 2 spec:DeploymentSpec, 3 status:DeploymentStatus",
            "DeploymentSpec": "1 replicas:i!, 2 selector:LabelSelector, 3 template:PodTemplateSpec, 4 strategy:DeploymentStrategy, "
                + "5 minReadySeconds:i, 6 revisionHistoryLimit:i!, 7 paused:b, 9 progressDeadlineSeconds:i!",
            "DeploymentStrategy": "1 type, 2 rollingUpdate:RollingUpdateDeployment",
            "RollingUpdateDeployment": "1 maxUnavailable:ios, 2 maxSurge:ios",
            "DeploymentStatus": "1 observedGeneration:i, 2 replicas:i, 3 updatedReplicas:i, 7 readyReplicas:i, 4 availableReplicas:i, "
                + "5 unavailableReplicas:i, 9 terminatingReplicas:i!, 6 conditions:[DeploymentCondition], 8 collisionCount:i!",
            "DeploymentCondition": "1 type, 2 status, 6 lastUpdateTime:t, 7 lastTransitionTime:t, 4 reason, 5 message",
            "ReplicaSet": "1 metadata:ObjectMeta, 2 spec:ReplicaSetSpec, 3 status:ReplicaSetStatus",
            "ReplicaSetSpec": "1 replicas:i!, 4 minReadySeconds:i, 2 selector:LabelSelector, 3 template:PodTemplateSpec",
            "ReplicaSetStatus": "1 replicas:i!, 2 fullyLabeledReplicas:i, 4 readyReplicas:i, 5 availableReplicas:i, 7 terminatingReplicas:i!, "
                + "3 observedGeneration:i, 6 conditions:[ReplicaSetCondition]",
            "ReplicaSetCondition": "1 type, 2 status, 3 lastTransitionTime:t, 4 reason, 5 message",
            "StatefulSet": "1 metadata:ObjectMeta, 2 spec:StatefulSetSpec, 3 status:StatefulSetStatus",
            "StatefulSetSpec": "1 replicas:i!, 2 selector:LabelSelector, 3 template:PodTemplateSpec, 4 volumeClaimTemplates:[PersistentVolumeClaim], "
                + "5 serviceName, 6 podManagementPolicy, 7 updateStrategy:StatefulSetUpdateStrategy, 8 revisionHistoryLimit:i!, "
                + "9 minReadySeconds:i, 10 persistentVolumeClaimRetentionPolicy:StatefulSetPersistentVolumeClaimRetentionPolicy, "
                + "11 ordinals:StatefulSetOrdinals",
            "StatefulSetUpdateStrategy": "1 type, 2 rollingUpdate:RollingUpdateStatefulSetStrategy",
            "RollingUpdateStatefulSetStrategy": "1 partition:i!, 2 maxUnavailable:ios",
            "StatefulSetPersistentVolumeClaimRetentionPolicy": "1 whenDeleted, 2 whenScaled",
            "StatefulSetOrdinals": "1 start:i",
            "StatefulSetStatus": "1 observedGeneration:i, 2 replicas:i!, 3 readyReplicas:i, 4 currentReplicas:i, 5 updatedReplicas:i, "
                + "6 currentRevision, 7 updateRevision, 9 collisionCount:i!, 10 conditions:[ReplicaSetCondition], 11 availableReplicas:i!",
            "DaemonSet": "1 metadata:ObjectMeta, 2 spec:DaemonSetSpec, 3 status:DaemonSetStatus",
            "DaemonSetSpec": "1 selector:LabelSelector, 2 template:PodTemplateSpec, 3 updateStrategy:DaemonSetUpdateStrategy, "
                + "4 minReadySeconds:i, 6 revisionHistoryLimit:i!",
            "DaemonSetUpdateStrategy": "1 type, 2 rollingUpdate:RollingUpdateDaemonSet",
            "RollingUpdateDaemonSet": "1 maxUnavailable:ios, 2 maxSurge:ios",
            "DaemonSetStatus": "1 currentNumberScheduled:i!, 2 numberMisscheduled:i!, 3 desiredNumberScheduled:i!, 4 numberReady:i!, "
                + "5 observedGeneration:i, 6 updatedNumberScheduled:i, 7 numberAvailable:i, 8 numberUnavailable:i, 9 collisionCount:i!, "
                + "10 conditions:[ReplicaSetCondition]",

            // batch/v1
            "Job": "1 metadata:ObjectMeta, 2 spec:JobSpec, 3 status:JobStatus",
            "JobSpec": "1 parallelism:i!, 2 completions:i!, 3 activeDeadlineSeconds:i!, 11 podFailurePolicy:PodFailurePolicy, "
                + "15 successPolicy:SuccessPolicy, 7 backoffLimit:i!, 12 backoffLimitPerIndex:i!, 13 maxFailedIndexes:i!, "
                + "4 selector:LabelSelector, 5 manualSelector:b!, 6 template:PodTemplateSpec, 8 ttlSecondsAfterFinished:i!, "
                + "9 completionMode:s!, 10 suspend:b!, 14 podReplacementPolicy:s!, 16 managedBy:s!",
            "PodFailurePolicy": "1 rules:[PodFailurePolicyRule]",
            "PodFailurePolicyRule": "1 action, 2 onExitCodes:PodFailurePolicyOnExitCodesRequirement, "
                + "3 onPodConditions:[PodFailurePolicyOnPodConditionsPattern]",
            "PodFailurePolicyOnExitCodesRequirement": "1 containerName:s!, 2 operator, 3 values:[i]",
            "PodFailurePolicyOnPodConditionsPattern": "1 type, 2 status",
            "SuccessPolicy": "1 rules:[SuccessPolicyRule]",
            "SuccessPolicyRule": "1 succeededIndexes:s!, 2 succeededCount:i!",
            "JobStatus": "1 conditions:[JobCondition], 2 startTime:t, 3 completionTime:t, 4 active:i, 9 ready:i!, 5 succeeded:i, 6 failed:i, "
                + "11 terminating:i!, 7 completedIndexes, 10 failedIndexes:s!, 8 uncountedTerminatedPods:UncountedTerminatedPods",
            "UncountedTerminatedPods": "1 succeeded:[s], 2 failed:[s]",
            "JobCondition": "1 type, 2 status, 3 lastProbeTime:t, 4 lastTransitionTime:t, 5 reason, 6 message",
            "CronJob": "1 metadata:ObjectMeta, 2 spec:CronJobSpec, 3 status:CronJobStatus",
            "CronJobSpec": "1 schedule, 8 timeZone:s!, 2 startingDeadlineSeconds:i!, 3 concurrencyPolicy, 4 suspend:b!, "
                + "5 jobTemplate:JobTemplateSpec, 6 successfulJobsHistoryLimit:i!, 7 failedJobsHistoryLimit:i!",
            "JobTemplateSpec": "1 metadata:ObjectMeta, 2 spec:JobSpec",
            "CronJobStatus": "1 active:[ObjectReference], 4 lastScheduleTime:t, 5 lastSuccessfulTime:t",

            // networking.k8s.io/v1
            "Ingress": "1 metadata:ObjectMeta, 2 spec:IngressSpec, 3 status:IngressStatus",
            "IngressSpec": "4 ingressClassName:s!, 1 defaultBackend:IngressBackend, 2 tls:[IngressTLS], 3 rules:[IngressRule]",
            "IngressBackend": "4 service:IngressServiceBackend, 3 resource:TypedLocalObjectReference",
            "IngressServiceBackend": "1 name, 2 port:ServiceBackendPort",
            "ServiceBackendPort": "1 name, 2 number:i",
            "IngressTLS": "1 hosts:[s], 2 secretName",
            "IngressRule": "1 host, 2 ingressRuleValue:+IngressRuleValue",
            "IngressRuleValue": "1 http:HTTPIngressRuleValue",
            "HTTPIngressRuleValue": "1 paths:[HTTPIngressPath]",
            "HTTPIngressPath": "1 path, 3 pathType:s!, 2 backend:IngressBackend",
            "IngressStatus": "1 loadBalancer:IngressLoadBalancerStatus",
            "IngressLoadBalancerStatus": "1 ingress:[IngressLoadBalancerIngress]",
            "IngressLoadBalancerIngress": "1 ip, 2 hostname, 4 ports:[IngressPortStatus]",
            "IngressPortStatus": "1 port:i!, 2 protocol, 3 error:s!",
            "IngressClass": "1 metadata:ObjectMeta, 2 spec:IngressClassSpec",
            "IngressClassSpec": "1 controller, 2 parameters:IngressClassParametersReference",
            "IngressClassParametersReference": "1 apiGroup:s!, 2 kind, 3 name, 4 scope:s!, 5 namespace:s!",
            "NetworkPolicy": "1 metadata:ObjectMeta, 2 spec:NetworkPolicySpec",
            "NetworkPolicySpec": "1 podSelector:LabelSelector, 2 ingress:[NetworkPolicyIngressRule], 3 egress:[NetworkPolicyEgressRule], "
                + "4 policyTypes:[s]",
            "NetworkPolicyIngressRule": "1 ports:[NetworkPolicyPort], 2 from:[NetworkPolicyPeer]",
            "NetworkPolicyEgressRule": "1 ports:[NetworkPolicyPort], 2 to:[NetworkPolicyPeer]",
            "NetworkPolicyPort": "1 protocol:s!, 2 port:ios, 3 endPort:i!",
            "NetworkPolicyPeer": "1 podSelector:LabelSelector, 2 namespaceSelector:LabelSelector, 3 ipBlock:IPBlock",
            "IPBlock": "1 cidr, 2 except:[s]",

            // autoscaling/v2
            "HorizontalPodAutoscaler": "1 metadata:ObjectMeta, 2 spec:HorizontalPodAutoscalerSpec, 3 status:HorizontalPodAutoscalerStatus",
            "HorizontalPodAutoscalerSpec": "1 scaleTargetRef:CrossVersionObjectReference, 2 minReplicas:i!, 3 maxReplicas:i!, "
                + "4 metrics:[MetricSpec], 5 behavior:HorizontalPodAutoscalerBehavior",
            "CrossVersionObjectReference": "1 kind, 2 name, 3 apiVersion",
            "MetricSpec": "1 type, 2 object:ObjectMetricSource, 3 pods:PodsMetricSource, 4 resource:ResourceMetricSource, "
                + "7 containerResource:ContainerResourceMetricSource, 5 external:ExternalMetricSource",
            "ObjectMetricSource": "1 describedObject:CrossVersionObjectReference, 2 target:MetricTarget, 3 metric:MetricIdentifier",
            "PodsMetricSource": "1 metric:MetricIdentifier, 2 target:MetricTarget",
            "ResourceMetricSource": "1 name, 2 target:MetricTarget",
            "ContainerResourceMetricSource": "1 name, 2 target:MetricTarget, 3 container",
            "ExternalMetricSource": "1 metric:MetricIdentifier, 2 target:MetricTarget",
            "MetricIdentifier": "1 name, 2 selector:LabelSelector",
            "MetricTarget": "1 type, 2 value:q, 3 averageValue:q, 4 averageUtilization:i!",
            "HorizontalPodAutoscalerBehavior": "1 scaleUp:HPAScalingRules, 2 scaleDown:HPAScalingRules",
            "HPAScalingRules": "3 stabilizationWindowSeconds:i!, 1 selectPolicy:s!, 2 policies:[HPAScalingPolicy], 4 tolerance:q",
            "HPAScalingPolicy": "1 type, 2 value:i!, 3 periodSeconds:i!",
            "HorizontalPodAutoscalerStatus": "1 observedGeneration:i!, 2 lastScaleTime:t, 3 currentReplicas:i, 4 desiredReplicas:i!, "
                + "5 currentMetrics:[MetricStatus], 6 conditions:[HorizontalPodAutoscalerCondition]",
            "MetricStatus": "1 type, 2 object:ObjectMetricStatus, 3 pods:PodsMetricStatus, 4 resource:ResourceMetricStatus, "
                + "7 containerResource:ContainerResourceMetricStatus, 5 external:ExternalMetricStatus",
            "ObjectMetricStatus": "1 metric:MetricIdentifier, 2 current:MetricValueStatus, 3 describedObject:CrossVersionObjectReference",
            "PodsMetricStatus": "1 metric:MetricIdentifier, 2 current:MetricValueStatus",
            "ResourceMetricStatus": "1 name, 2 current:MetricValueStatus",
            "ContainerResourceMetricStatus": "1 name, 2 current:MetricValueStatus, 3 container",
            "ExternalMetricStatus": "1 metric:MetricIdentifier, 2 current:MetricValueStatus",
            "MetricValueStatus": "1 value:q, 2 averageValue:q, 3 averageUtilization:i!",
            "HorizontalPodAutoscalerCondition": "1 type, 2 status, 3 lastTransitionTime:t, 4 reason, 5 message",

            // autoscaling/v1
            "v1.HorizontalPodAutoscaler": "1 metadata:ObjectMeta, 2 spec:v1.HorizontalPodAutoscalerSpec, 3 status:v1.HorizontalPodAutoscalerStatus",
            "v1.HorizontalPodAutoscalerSpec": "1 scaleTargetRef:CrossVersionObjectReference, 2 minReplicas:i!, 3 maxReplicas:i!, "
                + "4 targetCPUUtilizationPercentage:i!",
            "v1.HorizontalPodAutoscalerStatus": "1 observedGeneration:i!, 2 lastScaleTime:t, 3 currentReplicas:i!, 4 desiredReplicas:i!, "
                + "5 currentCPUUtilizationPercentage:i!",
        ]

        /// The table parsed once: message → number → field.
        static let messages: [String: [Int: Field]] = {
            var result: [String: [Int: Field]] = [:]
            for (message, line) in table {
                var fields: [Int: Field] = [:]
                for entry in line.split(separator: ",") {
                    let words = entry.split(separator: " ")
                    let spec = words[1].split(separator: ":", maxSplits: 1).map(String.init)
                    fields[Int(words[0])!] = Field(name: spec[0], type: fieldType(spec.count > 1 ? spec[1] : "s"))
                }
                result[message] = fields
            }
            return result
        }()

        static func scalar(_ token: String) -> Scalar? {
            switch token {
            case "s": .string
            case "i": .int
            case "b": .bool
            case "bytes": .bytes
            case "q": .quantity
            case "ios": .intOrString
            case "t": .time
            default: nil
            }
        }

        static func fieldType(_ token: String) -> FieldType {
            if token.hasPrefix("{") { return .map(scalar(String(token.dropFirst().dropLast()))!) }
            if token.hasPrefix("[") {
                let inner = String(token.dropFirst().dropLast())
                if let type = scalar(inner) { return .scalars(type) }
                return .messages(inner)
            }
            if token.hasPrefix("+") { return .inline(String(token.dropFirst())) }
            let keep = token.hasSuffix("!")
            if let type = scalar(keep ? String(token.dropLast()) : token) { return .scalar(type, keepZero: keep) }
            return .message(token)
        }
    }
}
