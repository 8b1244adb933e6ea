// Which network interfaces use a security group, read live (DescribeNetworkInterfaces filtered by group id, every
// page): what decides whether revoking a default group's rules would cut traffic. Read by the resource type's
// observer (problems/sg-open-ingress/observe.ts) for a default group, so the fix and the real-time path see the same.
import { DescribeNetworkInterfacesCommand, type EC2Client } from "@aws-sdk/client-ec2";

/** The ids of the network interfaces that use the group, sorted (every page). */
export async function describeGroupInterfaces(ec2: EC2Client, groupId: string): Promise<string[]> {
  const ids = new Set<string>();
  let token: string | undefined;
  do {
    const page = await ec2.send(
      new DescribeNetworkInterfacesCommand({
        Filters: [{ Name: "group-id", Values: [groupId] }],
        MaxResults: 1000,
        ...(token ? { NextToken: token } : {}),
      }),
    );
    for (const networkInterface of page.NetworkInterfaces ?? []) {
      if (networkInterface.NetworkInterfaceId) ids.add(networkInterface.NetworkInterfaceId);
    }
    token = page.NextToken || undefined;
  } while (token);
  return [...ids].sort();
}
